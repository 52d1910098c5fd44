#!/usr/bin/env bash
# Start a minimal single-node Ceph 16 (pacific, Debian bookworm packages) cluster by hand:
#   1 mon + 1 mgr (optional) + 1 OSD (bluestore on a sparse file, or memstore) + radosgw (beast).
# No systemd, no cephadm, no root needed for the daemons themselves (root is fine too).
# Idempotent: re-running while the cluster is up only checks health and prints the env.
#
# Env knobs (defaults in brackets):
#   CEPH_DIR      [/tmp/glimmer-services/ceph]  all state, conf, logs, pids
#   CEPH_MON_V2_PORT     [43300]   mon msgr2 port     CEPH_MON_V1_PORT [46789] mon legacy port
#   CEPH_BIND_MIN/MAX    [43400/43499]  port range for osd/mgr/rgw messengers
#   CEPH_RGW_PORT        [47480]   radosgw beast port (0 = don't start radosgw)
#   CEPH_WITH_MGR        [1]       0 = skip ceph-mgr (saves ~150 MB RSS; `ceph -s` PG stats go stale)
#   CEPH_OBJECTSTORE     [bluestore]  or memstore (RAM only; set CEPH_MEMSTORE_BYTES)
#   CEPH_OSD_SIZE        [40G]     sparse bluestore block file size (only written blocks use disk)
#   CEPH_AUTH            [none]    or cephx (generates keyrings; client.admin keyring in $DIR)
#   CEPH_RBD_POOL        [rbd]     CEPH_S3_USER [glimmer]  CEPH_S3_ACCESS/SECRET [fixed test keys]
#
# After success, sources-able env is written to $DIR/env.sh:
#   CEPH_CONF, CEPH_ARGS-less usage: `rbd -c $CEPH_CONF ...`, S3 endpoint/keys.
set -euo pipefail

DIR=${CEPH_DIR:-/tmp/glimmer-services/ceph}
MON2=${CEPH_MON_V2_PORT:-43300}
MON1=${CEPH_MON_V1_PORT:-46789}
BMIN=${CEPH_BIND_MIN:-43400}
BMAX=${CEPH_BIND_MAX:-43499}
RGWPORT=${CEPH_RGW_PORT:-47480}
WITH_MGR=${CEPH_WITH_MGR:-0}
STORE=${CEPH_OBJECTSTORE:-bluestore}
OSDSIZE=${CEPH_OSD_SIZE:-40G}
MEMBYTES=${CEPH_MEMSTORE_BYTES:-4G}
AUTH=${CEPH_AUTH:-none}
POOL=${CEPH_RBD_POOL:-rbd}
S3USER=${CEPH_S3_USER:-glimmer}
S3KEY=${CEPH_S3_ACCESS:-GLIMMERTESTACCESSKEY}
S3SECRET=${CEPH_S3_SECRET:-glimmerTestSecretKey000000000000000000000}
CONF=$DIR/ceph.conf
CX=; [ "$AUTH" = cephx ] && CX=1
T0=$(date +%s.%N)

log() { printf '[start-ceph %6.1fs] %s\n' "$(awk "BEGIN{print $(date +%s.%N)-$T0}")" "$*" >&2; }
die() { log "ERROR: $*"; for f in "$DIR"/log/*.log; do [ -f "$f" ] && { echo "== tail $f" >&2; tail -n 15 "$f" >&2; }; done; exit 1; }
# a pid file only counts if that pid is still *our* daemon (cmdline mentions our ceph.conf)
alive() { [ -f "$DIR/pids/$1" ] && tr '\0' ' ' 2>/dev/null <"/proc/$(cat "$DIR/pids/$1")/cmdline" | grep -qF -- "$CONF"; }
C() { timeout 60 ceph -c "$CONF" "$@"; }
# start a daemon in the foreground (-f) in the background, remember its PID
spawn() { local name=$1; shift
  if alive "$name"; then log "$name already running (pid $(cat "$DIR/pids/$name"))"; return; fi
  nohup "$@" >>"$DIR/log/$name.out" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name"; log "started $name pid $!"; }

for b in ceph-mon ceph-osd ceph monmaptool ceph-authtool; do
  command -v $b >/dev/null || { echo "missing $b: apt-get install ceph ceph-mon ceph-osd ceph-mgr radosgw" >&2; exit 1; }
done

mkdir -p "$DIR"/{log,run,pids,mon.a,mgr.x,osd.0,rgw}

# ---------------------------------------------------------------- config (first run only)
if [ ! -f "$CONF" ]; then
  FSID=$(cat /proc/sys/kernel/random/uuid)
  if [ "$AUTH" = cephx ]; then AUTHV=cephx; else AUTHV=none; fi
  cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon_host = [v2:127.0.0.1:$MON2,v1:127.0.0.1:$MON1]
public_addr = 127.0.0.1
ms_bind_ipv4 = true
ms_bind_ipv6 = false
ms_bind_port_min = $BMIN
ms_bind_port_max = $BMAX
auth_cluster_required = $AUTHV
auth_service_required = $AUTHV
auth_client_required = $AUTHV
keyring = $DIR/\$cluster.\$name.keyring
run_dir = $DIR/run
admin_socket = $DIR/run/\$name.asok
log_file = $DIR/log/\$name.log
pid_file = $DIR/run/\$name.pid
crash_dir = $DIR/crash
# single node, single OSD
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
mon_allow_pool_delete = true
# keep it small / quiet for CI
mon_data_avail_warn = 2
mon_data_avail_crit = 1
osd_memory_target = 1073741824
debug_ms = 0
err_to_stderr = false
log_to_stderr = false

[mon]
mon_data = $DIR/mon.\$id
mon_cluster_log_file = $DIR/log/cluster.log
mon_warn_on_insecure_global_id_reclaim_allowed = false
# commit map changes fast: every pool create / app enable otherwise waits ~1 s for paxos
paxos_propose_interval = 0.05
paxos_min_wait = 0.01

[mgr]
mgr_data = $DIR/mgr.\$id
mgr_initial_modules = 

[osd]
osd_data = $DIR/osd.\$id
osd_objectstore = $STORE
osd_journal_size = 100
bluestore_block_path = $DIR/osd.\$id/block.img
bluestore_block_create = true
bluestore_block_size = $(numfmt --from=iec "$OSDSIZE")
bluestore_block_db_create = false
bluestore_block_wal_create = false
bdev_enable_discard = false
memstore_device_bytes = $(numfmt --from=iec "$MEMBYTES")
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1
osd_max_object_size = 134217728

[client]
rbd_default_features = 61
rgw_data = $DIR/rgw
rgw_frontends = beast endpoint=127.0.0.1:$RGWPORT
rgw_dns_name = 127.0.0.1
rgw_enable_usage_log = false
rgw_thread_pool_size = 64
# reclaim deleted objects' data within seconds (the default waits 2 h), so that a test suite that
# writes and deletes many GiB does not fill the one OSD
rgw_gc_obj_min_wait = 5
rgw_gc_processor_period = 10
rgw_gc_processor_max_time = 10

[client.rgw.a]
# radosgw hard-codes ms_mon_client_mode=secure as a *default*; with auth=none the only
# possible mode is crc, so without this line rgw loops on
# 'send_auth_request get_initial_auth_request returned -13' and never starts.
ms_mon_client_mode = crc secure
EOF
  log "wrote $CONF (fsid $FSID, auth $AUTHV, objectstore $STORE)"
fi
FSID=$(awk '$1=="fsid"{print $3}' "$CONF")
# an existing cluster keeps the auth mode it was created with, whatever CEPH_AUTH says now
AUTH=$(awk '$1=="auth_cluster_required"{print $3}' "$CONF"); CX=; [ "$AUTH" = cephx ] && CX=1

# ---------------------------------------------------------------- keyrings (cephx only)
if [ "$AUTH" = cephx ] && [ ! -f "$DIR/ceph.mon.keyring" ]; then
  ceph-authtool --create-keyring "$DIR/ceph.mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$DIR/ceph.client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$DIR/ceph.mon.keyring" --import-keyring "$DIR/ceph.client.admin.keyring" >/dev/null
fi

# ---------------------------------------------------------------- mon
if [ ! -f "$DIR/mon.a/store.db/CURRENT" ] && [ ! -f "$DIR/mon.a/kv_backend" ]; then
  monmaptool --create --clobber --fsid "$FSID" \
     --addv a "[v2:127.0.0.1:$MON2,v1:127.0.0.1:$MON1]" "$DIR/monmap" >/dev/null
  if [ "$AUTH" = cephx ]; then KR=(--keyring "$DIR/ceph.mon.keyring"); else
    ceph-authtool --create-keyring "$DIR/ceph.mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
    KR=(--keyring "$DIR/ceph.mon.keyring"); fi
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" "${KR[@]}" >>"$DIR/log/mkfs.out" 2>&1 || die "mon mkfs"
  log "mon.a mkfs done"
fi
spawn mon.a ceph-mon -c "$CONF" -i a -f
for i in $(seq 1 60); do C -s >/dev/null 2>&1 && break; alive mon.a || die "mon died"; sleep 0.5; done
C -s >/dev/null 2>&1 || die "mon not reachable"
log "mon up"
C config set mon auth_allow_insecure_global_id_reclaim false >/dev/null 2>&1 || true

# ---------------------------------------------------------------- mgr (optional)
if [ "$WITH_MGR" = 1 ]; then
  if [ "$AUTH" = cephx ] && [ ! -f "$DIR/mgr.x/keyring" ]; then
    C auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' >"$DIR/mgr.x/keyring"
  fi
  spawn mgr.x ceph-mgr -c "$CONF" -i x -f ${CX:+--keyring "$DIR/mgr.x/keyring"}
fi

# ---------------------------------------------------------------- osd
if [ ! -f "$DIR/osd.0/whoami" ]; then
  OSDUUID=$(cat /proc/sys/kernel/random/uuid)
  if [ "$AUTH" = cephx ]; then
    SECRET=$(ceph-authtool --gen-print-key)
    echo "{\"cephx_secret\": \"$SECRET\"}" >"$DIR/osd.0/new.json"
    ID=$(C osd new "$OSDUUID" -i "$DIR/osd.0/new.json")
    printf '[osd.0]\n\tkey = %s\n' "$SECRET" >"$DIR/osd.0/keyring"
  else
    ID=$(C osd new "$OSDUUID")
  fi
  [ "$ID" = 0 ] || die "expected osd id 0, got '$ID'"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSDUUID" ${CX:+--keyring "$DIR/osd.0/keyring"} \
    >>"$DIR/log/mkfs.out" 2>&1 || die "osd mkfs"
  log "osd.0 mkfs done ($STORE)"
fi
spawn osd.0 ceph-osd -c "$CONF" -i 0 -f ${CX:+--keyring "$DIR/osd.0/keyring"}
for i in $(seq 1 120); do
  [ "$(C osd stat -f json 2>/dev/null | python3 -c 'import sys,json;print(json.load(sys.stdin)["num_up_osds"])' 2>/dev/null)" = 1 ] && break
  alive osd.0 || die "osd died"; sleep 0.5
done
log "osd.0 up"

# ---------------------------------------------------------------- rbd pool
if ! C osd pool ls | grep -qx "$POOL"; then
  C osd pool create "$POOL" 16 16 >/dev/null 2>&1
  C osd pool application enable "$POOL" rbd >/dev/null 2>&1
  timeout 60 rbd -c "$CONF" pool init "$POOL" || die "rbd pool init"
  log "pool $POOL created"
fi

# ---------------------------------------------------------------- radosgw
if [ "$RGWPORT" != 0 ]; then
  if [ "$AUTH" = cephx ] && [ ! -f "$DIR/rgw/keyring" ]; then
    C auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' mgr 'allow rw' >"$DIR/rgw/keyring"
  fi
  # pre-create rgw's pools in one go (otherwise rgw creates them one by one at startup and
  # the bucket data/index pools lazily on the first PUT, ~4 s stall on the first upload)
  want=".rgw.root default.rgw.log default.rgw.control default.rgw.meta default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec"
  have=$(C osd pool ls)
  for p in $want; do
    grep -qx -- "$p" <<<"$have" && continue
    C osd pool create "$p" 8 8 >/dev/null 2>&1 && C osd pool application enable "$p" rgw >/dev/null 2>&1
  done
  spawn rgw.a radosgw -c "$CONF" -n client.rgw.a -f ${CX:+--keyring "$DIR/rgw/keyring"}
  for i in $(seq 1 120); do
    curl -fsS -o /dev/null "http://127.0.0.1:$RGWPORT/" 2>/dev/null && break
    alive rgw.a || die "radosgw died"; sleep 0.5
  done
  curl -fsS -o /dev/null "http://127.0.0.1:$RGWPORT/" || die "radosgw not answering on $RGWPORT"
  log "radosgw up on 127.0.0.1:$RGWPORT"
  if ! timeout 60 radosgw-admin -c "$CONF" user info --uid "$S3USER" >/dev/null 2>&1; then
    timeout 60 radosgw-admin -c "$CONF" user create --uid "$S3USER" --display-name "Glimmer test" \
      --access-key "$S3KEY" --secret-key "$S3SECRET" >/dev/null || die "radosgw-admin user create"
    log "s3 user $S3USER created"
  fi
fi

cat >"$DIR/env.sh" <<EOF
export CEPH_CONF=$CONF
export CEPH_RBD_POOL=$POOL
export S3_ENDPOINT=http://127.0.0.1:$RGWPORT
export AWS_ACCESS_KEY_ID=$S3KEY
export AWS_SECRET_ACCESS_KEY=$S3SECRET
export AWS_DEFAULT_REGION=default
EOF
if [ "$AUTH" = cephx ]; then echo "export CEPH_KEYRING=$DIR/ceph.client.admin.keyring" >>"$DIR/env.sh"; fi
log "cluster ready: $(C health 2>/dev/null)"
echo "$DIR/env.sh"
