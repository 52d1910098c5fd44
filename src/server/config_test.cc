#include "server/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace glimmer::server {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/glimmer_config_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& text) {
    std::string path = dir_ + "/glimmer" + std::to_string(files_.size()) + ".conf";
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }
  // Loads `text` as a file; returns the status message (empty when OK).
  std::string LoadError(const std::string& text) {
    StatusOr<Config> c = LoadConfig(Write(text), {});
    return c.ok() ? "" : c.status().message();
  }

  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(ConfigTest, DefaultsMatchGlance) {
  StatusOr<Config> c = LoadConfig(std::nullopt, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bind_host, "127.0.0.1");
  EXPECT_EQ(c->bind_port, 9292);
  EXPECT_EQ(c->image_size_cap, 1099511627776);
  EXPECT_EQ(c->user_storage_quota, 0);
  EXPECT_EQ(c->limit_param_default, 25);
  EXPECT_EQ(c->api_limit_max, 1000);
  EXPECT_EQ(c->image_member_quota, 128);
  EXPECT_EQ(c->image_location_quota, 10);
  EXPECT_FALSE(c->show_image_direct_url);
  EXPECT_FALSE(c->show_multiple_locations);
  EXPECT_THAT(c->enabled_import_methods,
              ElementsAre("glance-direct", "web-download", "copy-image"));
  EXPECT_EQ(c->disk_formats.size(), 11u);
  EXPECT_THAT(c->container_formats,
              ElementsAre("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"));
  EXPECT_THAT(c->import_filtering.allowed_ports, ElementsAre(80, 443));
  EXPECT_THAT(c->import_filtering.allowed_schemes, ElementsAre("http", "https"));
  EXPECT_EQ(c->ImageDir(), "./data/images");
  EXPECT_TRUE(c->fsync_uploads);
  EXPECT_EQ(c->max_json_body_bytes, 1 << 20);
  EXPECT_THAT(c->warnings, IsEmpty());
}

TEST_F(ConfigTest, ParsesOsloStyleFile) {
  StatusOr<Config> c = LoadConfig(Write(R"(# leading comment
; another comment
[DEFAULT]
bind_host = 0.0.0.0
bind_port=19292
public_endpoint = https://images.example.com:9292
user_storage_quota = 10GB
show_image_direct_url = YES
show_multiple_locations: 1
enabled_import_methods = [glance-direct, copy-image]
image_member_quota = -1

[image_format]
disk_formats = raw,qcow2 , iso
container_formats = "bare"

[glance_store]
filesystem_store_datadir = /srv/images

[import_filtering_opts]
allowed_ports = 80,443, 8080
disallowed_hosts = 169.254.169.254
allowed_schemes = HTTPS

[glimmer]
data_dir = /var/lib/glimmer/
fsync_uploads = off
log_level = WARN
max_json_body_bytes = 2MB
admin_password = s3cret = with equals
)"),
                                  {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bind_host, "0.0.0.0");
  EXPECT_EQ(c->bind_port, 19292);
  EXPECT_EQ(c->public_endpoint, "https://images.example.com:9292");
  EXPECT_EQ(c->user_storage_quota, int64_t{10} << 30);
  EXPECT_TRUE(c->show_image_direct_url);
  EXPECT_TRUE(c->show_multiple_locations);
  EXPECT_THAT(c->enabled_import_methods, ElementsAre("glance-direct", "copy-image"));
  EXPECT_EQ(c->image_member_quota, -1);
  EXPECT_THAT(c->disk_formats, ElementsAre("raw", "qcow2", "iso"));
  EXPECT_THAT(c->container_formats, ElementsAre("bare"));
  EXPECT_EQ(c->ImageDir(), "/srv/images");
  EXPECT_THAT(c->import_filtering.allowed_ports, ElementsAre(80, 443, 8080));
  EXPECT_THAT(c->import_filtering.disallowed_hosts, ElementsAre("169.254.169.254"));
  EXPECT_THAT(c->import_filtering.allowed_schemes, ElementsAre("https"));
  EXPECT_EQ(c->data_dir, "/var/lib/glimmer/");
  EXPECT_FALSE(c->fsync_uploads);
  EXPECT_EQ(c->log_level, "warning");
  EXPECT_EQ(c->max_json_body_bytes, 2 << 20);
  EXPECT_EQ(c->admin_password, "s3cret = with equals");
  EXPECT_THAT(c->warnings, IsEmpty());
}

TEST_F(ConfigTest, ImageDirDerivesFromDataDir) {
  StatusOr<Config> c = LoadConfig(Write("[glimmer]\ndata_dir = /var/lib/glimmer/\n"), {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ImageDir(), "/var/lib/glimmer/images");
}

TEST_F(ConfigTest, ErrorsNameFileLineSectionAndOption) {
  std::string path;
  {
    path = Write("[DEFAULT]\n\nbind_port = abc\n");
    StatusOr<Config> c = LoadConfig(path, {});
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(c.status().message(), HasSubstr(path + ":3: [DEFAULT] bind_port:"));
    EXPECT_THAT(c.status().message(), HasSubstr("not an integer"));
  }
  EXPECT_THAT(LoadError("[DEFAULT]\nbind_port = 70000\n"), HasSubstr("out of range"));
  EXPECT_THAT(LoadError("[DEFAULT]\nbind_port = 12x\n"), HasSubstr("not an integer"));
  EXPECT_THAT(LoadError("[DEFAULT]\nbind_port = 99999999999999999999999\n"),
              HasSubstr("out of range"));
  EXPECT_THAT(LoadError("[DEFAULT]\nshow_image_direct_url = maybe\n"),
              HasSubstr("[DEFAULT] show_image_direct_url: value 'maybe' is not a boolean"));
  EXPECT_THAT(LoadError("[DEFAULT]\nuser_storage_quota = 10 GB\n"), HasSubstr("is not a size"));
  EXPECT_THAT(LoadError("[DEFAULT]\nuser_storage_quota = 10PB\n"), HasSubstr("is not a size"));
  EXPECT_THAT(LoadError("[DEFAULT]\nbogus_option = 1\n"),
              HasSubstr(":2: [DEFAULT] bogus_option: unknown option"));
  EXPECT_THAT(LoadError("[bogus_section]\nx = 1\n"),
              HasSubstr(":2: [bogus_section]: unknown section"));
  EXPECT_THAT(LoadError("bind_port = 1\n"), HasSubstr(":1: option 'bind_port' appears before"));
  EXPECT_THAT(LoadError("[DEFAULT\n"), HasSubstr(":1: malformed section header"));
  EXPECT_THAT(LoadError("[DEFAULT]\njust words\n"), HasSubstr(":2: expected 'option = value'"));
  EXPECT_THAT(LoadError("[DEFAULT]\n= 3\n"), HasSubstr(":2: missing option name"));
  EXPECT_THAT(LoadError("[DEFAULT]\nhashing_algorithm = md5\n"), HasSubstr("only sha512"));
  EXPECT_THAT(LoadError("[DEFAULT]\nenabled_import_methods = glance-direct,ftp\n"),
              HasSubstr("unknown import method 'ftp'"));
  EXPECT_THAT(LoadError("[DEFAULT]\npublic_endpoint = ftp://x\n"), HasSubstr("http://"));
  EXPECT_THAT(LoadError("[glance_store]\ndefault_store = swift\n"),
              HasSubstr("not supported (file, rbd, s3 are)"));
  EXPECT_THAT(LoadError("[image_format]\ndisk_formats =\n"), HasSubstr("must not be empty"));
  EXPECT_THAT(LoadError("[image_format]\ndisk_formats = raw, q c\n"), HasSubstr("'q c'"));
  EXPECT_THAT(LoadError("[import_filtering_opts]\nallowed_ports = 80,0\n"),
              HasSubstr("out of range"));
  EXPECT_THAT(LoadError("[glimmer]\nlog_level = chatty\n"), HasSubstr("is not one of"));
  EXPECT_THAT(LoadError("[glimmer]\nhandler_threads = -1\n"), HasSubstr("out of range"));
  EXPECT_THAT(LoadError("[glimmer]\ndata_dir =\n"), HasSubstr("must not be empty"));
  EXPECT_THAT(LoadError("[glimmer]\nbogus = 1\n"), HasSubstr("[glimmer] bogus: unknown option"));
}

TEST_F(ConfigTest, MissingFileIsNotFound) {
  StatusOr<Config> c = LoadConfig(dir_ + "/nope.conf", {});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(c.status().message(), HasSubstr("nope.conf"));
}

TEST_F(ConfigTest, GlanceApiConfIsAcceptedWithWarnings) {
  StatusOr<Config> c = LoadConfig(Write(R"([DEFAULT]
debug = True
log_file = /var/log/glance/api.log
show_image_direct_url = true
transport_url = rabbit://guest:guest@localhost:5672/

[keystone_authtoken]
www_authenticate_uri = http://keystone:5000
auth_type = password
password = secret

[paste_deploy]
flavor = keystone

[database]
connection = mysql+pymysql://glance:pw@db/glance

[glance_store]
stores = file,http
filesystem_store_datadir = /var/lib/glance/images/
rbd_store_pool = images
swift_store_container = glance

[image_format]
require_image_format_match = true
)"),
                                  {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->show_image_direct_url);
  EXPECT_EQ(c->ImageDir(), "/var/lib/glance/images/");
  auto has_warning = [&](const std::string& needle) {
    for (const std::string& w : c->warnings) {
      if (w.find(needle) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has_warning("[DEFAULT] debug: Glance option not implemented"));
  EXPECT_TRUE(has_warning("[DEFAULT] transport_url"));
  EXPECT_TRUE(has_warning("[keystone_authtoken]: section not used by Glimmer; 3 option(s)"));
  EXPECT_TRUE(has_warning("[paste_deploy]: section not used"));
  // MySQL metadata is not for Glimmer: the embedded database is used, and the operator told.
  EXPECT_TRUE(has_warning("[database] connection: MySQL is not supported"));
  EXPECT_TRUE(c->database_connection.empty());
  // rbd_store_pool is an option of the rbd store now: kept, without a warning.
  EXPECT_FALSE(has_warning("[glance_store] rbd_store_pool"));
  EXPECT_EQ(c->glance_store_options.at("rbd_store_pool"), "images");
  EXPECT_TRUE(has_warning("[glance_store] swift_store_container"));
  EXPECT_TRUE(has_warning("[image_format] require_image_format_match"));
  EXPECT_FALSE(has_warning("show_image_direct_url"));
}

TEST_F(ConfigTest, PolicyAndPropertyProtectionOptions) {
  StatusOr<Config> d = LoadConfig(std::nullopt, {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->policy_file, "");
  EXPECT_EQ(d->property_protection_file, "");
  EXPECT_EQ(d->property_protection_rule_format, "roles");

  StatusOr<Config> c = LoadConfig(Write(R"([DEFAULT]
property_protection_file = /etc/glance/property-protections.conf
property_protection_rule_format = Policies

[oslo_policy]
policy_file = /etc/glance/policy.yaml
enforce_new_defaults = true
enforce_scope = true
)"),
                                  {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->policy_file, "/etc/glance/policy.yaml");
  EXPECT_EQ(c->property_protection_file, "/etc/glance/property-protections.conf");
  EXPECT_EQ(c->property_protection_rule_format, "policies");
  bool oslo_policy_warned = false;
  for (const std::string& w : c->warnings) {
    EXPECT_EQ(w.find("property_protection"), std::string::npos) << w;
    EXPECT_EQ(w.find("policy_file"), std::string::npos) << w;
    if (w.find("[oslo_policy]") != std::string::npos) oslo_policy_warned = true;
  }
  EXPECT_TRUE(oslo_policy_warned);  // enforce_* stay accepted-and-ignored

  EXPECT_THAT(LoadError("[DEFAULT]\nproperty_protection_rule_format = acl\n"),
              HasSubstr("[DEFAULT] property_protection_rule_format: value 'acl' is not one of"));
  StatusOr<Config> env =
      LoadConfig(std::nullopt, {{"GLIMMER_OSLO_POLICY__POLICY_FILE", "/p.json"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->policy_file, "/p.json");
}

TEST_F(ConfigTest, EnvironmentOverridesFileAndCliOverridesEnvironment) {
  std::string path = Write(
      "[DEFAULT]\nbind_port = 1111\napi_limit_max = 50\n"
      "[glimmer]\nlog_level = debug\n");
  std::map<std::string, std::string> env = {
      {"GLIMMER_DEFAULT__BIND_PORT", "2222"},
      {"GLIMMER_GLANCE_STORE__DEFAULT_STORE", "file"},
      {"GLIMMER_IMPORT_FILTERING_OPTS__ALLOWED_PORTS", "8443"},
      {"GLIMMER_LOG_LEVEL", "error"},
      {"PATH", "/usr/bin"},
  };
  StatusOr<Config> c = LoadConfig(path, env);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->bind_port, 2222);     // env beats file
  EXPECT_EQ(c->api_limit_max, 50);   // file beats default
  EXPECT_EQ(c->log_level, "error");  // alias beats file
  EXPECT_THAT(c->import_filtering.allowed_ports, ElementsAre(8443));
  ASSERT_TRUE(ApplyOverride(*c, "DEFAULT", "bind_port", "3333").ok());
  EXPECT_EQ(c->bind_port, 3333);  // CLI beats env
  ASSERT_TRUE(ApplyOverride(*c, "default", "api-limit-max", "70").ok());
  EXPECT_EQ(c->api_limit_max, 70);
}

TEST_F(ConfigTest, ShortAliases) {
  StatusOr<Config> c = LoadConfig(std::nullopt, {{"GLIMMER_DATA_DIR", "/tmp/g"},
                                                 {"GLIMMER_LISTEN", "[::1]:8000"},
                                                 {"GLIMMER_ADMIN_PASSWORD", "pw"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, "/tmp/g");
  EXPECT_EQ(c->ImageDir(), "/tmp/g/images");
  EXPECT_EQ(c->bind_host, "::1");
  EXPECT_EQ(c->bind_port, 8000);
  EXPECT_EQ(c->admin_password, "pw");

  c = LoadConfig(std::nullopt, {{"GLIMMER_LISTEN", "0.0.0.0:9000"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->bind_host, "0.0.0.0");
  EXPECT_EQ(c->bind_port, 9000);

  // The long form wins over the alias.
  c = LoadConfig(std::nullopt,
                 {{"GLIMMER_LISTEN", "0.0.0.0:9000"}, {"GLIMMER_DEFAULT__BIND_PORT", "9001"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->bind_port, 9001);
}

TEST_F(ConfigTest, EnvironmentErrorsNameTheVariable) {
  StatusOr<Config> c = LoadConfig(std::nullopt, {{"GLIMMER_DEFAULT__BIND_PORT", "x"}});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(),
              HasSubstr("GLIMMER_DEFAULT__BIND_PORT: [DEFAULT] bind_port: value 'x'"));

  c = LoadConfig(std::nullopt, {{"GLIMMER_NOPE__X", "1"}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("[nope]: unknown section"));

  c = LoadConfig(std::nullopt, {{"GLIMMER_LISTEN", "9292"}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("GLIMMER_LISTEN"));

  c = LoadConfig(std::nullopt, {{"GLIMMER_LISTEN", "::1:80"}});
  ASSERT_FALSE(c.ok());

  // Unrelated GLIMMER_ variables are reported, not fatal.
  c = LoadConfig(std::nullopt, {{"GLIMMER_SOMETHING", "1"}});
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_THAT(c->warnings[0], HasSubstr("GLIMMER_SOMETHING"));
}

TEST_F(ConfigTest, ApplyOverrideValidatesLikeTheFile) {
  Config c;
  Status st = ApplyOverride(c, "glimmer", "io_threads", "0");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("[glimmer] io_threads: value '0' is out of range"));
  EXPECT_EQ(c.io_threads, 2);  // unchanged on error
  EXPECT_EQ(ApplyOverride(c, "nope", "x", "1").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ApplyOverride(c, "keystone_authtoken", "auth_type", "password").ok());
  EXPECT_EQ(c.warnings.size(), 1u);
  EXPECT_TRUE(ApplyOverride(c, "DEFAULT", "user_storage_quota", "1TB").ok());
  EXPECT_EQ(c.user_storage_quota, int64_t{1} << 40);
}

TEST(ParseByteSizeTest, SuffixesAreBinaryMultiples) {
  EXPECT_EQ(*ParseByteSize("0"), 0);
  EXPECT_EQ(*ParseByteSize("17"), 17);
  EXPECT_EQ(*ParseByteSize("17B"), 17);
  EXPECT_EQ(*ParseByteSize("3KB"), 3072);
  EXPECT_EQ(*ParseByteSize("5MB"), 5 << 20);
  EXPECT_EQ(*ParseByteSize("2GB"), int64_t{2} << 30);
  EXPECT_EQ(*ParseByteSize("4TB"), int64_t{4} << 40);
  for (const char* bad : {"", "B", "KB", "1kb", "1 KB", "-1", "1.5GB", "1K", "1PB", "9999999999TB",
                          "99999999999999999999"}) {
    EXPECT_FALSE(ParseByteSize(bad).ok()) << bad;
  }
}

TEST_F(ConfigTest, ShippedExampleLoadsCleanlyWithDefaults) {
  StatusOr<Config> c =
      LoadConfig(std::string(GLIMMER_SOURCE_DIR) + "/etc/glimmer.conf.example", {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_THAT(c->warnings, IsEmpty());
  Config defaults;
  EXPECT_EQ(c->bind_host, defaults.bind_host);
  EXPECT_EQ(c->bind_port, defaults.bind_port);
  EXPECT_EQ(c->image_size_cap, defaults.image_size_cap);
  EXPECT_EQ(c->disk_formats, defaults.disk_formats);
  EXPECT_EQ(c->container_formats, defaults.container_formats);
  EXPECT_EQ(c->enabled_import_methods, defaults.enabled_import_methods);
  EXPECT_EQ(c->import_filtering.allowed_ports, defaults.import_filtering.allowed_ports);
  EXPECT_EQ(c->ImageDir(), defaults.ImageDir());
  EXPECT_EQ(c->max_json_body_bytes, defaults.max_json_body_bytes);
  EXPECT_EQ(c->token_expiration, defaults.token_expiration);
}
}  // namespace
}  // namespace glimmer::server

namespace glimmer::server {
namespace {

TEST_F(ConfigTest, MultiStoreAndImportOptions) {
  StatusOr<Config> c = LoadConfig(Write(R"([DEFAULT]
enabled_backends = fast:file, cheap:file
node_staging_uri = file:///srv/staging
[glance_store]
default_backend = cheap
[fast]
filesystem_store_datadir = /srv/fast
[cheap]
filesystem_store_datadir = /srv/cheap
store_description = slow disks
weight = -5
[image_import_opts]
image_import_plugins = ['image_decompression', 'image_conversion']
[inject_metadata_properties]
inject = a:1, b:two
[image_conversion]
output_format = qcow2
[glance_download_properties]
regions = RegionTwo=https://glance.two:9292
[import_filtering_opts]
allowed_cidrs = 10.0.0.0/8
stall_timeout_seconds = 5
)"),
                                  {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->enabled_backends.size(), 2u);
  EXPECT_EQ(c->enabled_backends[1].first, "cheap");
  EXPECT_EQ(c->default_backend, "cheap");
  EXPECT_EQ(c->backend_options["cheap"]["filesystem_store_datadir"], "/srv/cheap");
  EXPECT_EQ(c->backend_options["cheap"]["store_description"], "slow disks");
  EXPECT_EQ(c->backend_options["cheap"]["weight"], "-5");
  EXPECT_EQ(c->StagingDir(), "/srv/staging");
  EXPECT_EQ(c->image_import_plugins,
            (std::vector<std::string>{"image_decompression", "image_conversion"}));
  EXPECT_EQ(c->inject_metadata.size(), 2u);
  EXPECT_EQ(c->inject_metadata[1].second, "two");
  EXPECT_EQ(c->conversion_output_format, "qcow2");
  EXPECT_EQ(c->glance_download_regions.at("RegionTwo"), "https://glance.two:9292");
  EXPECT_EQ(c->import_address_policy.allowed_cidrs.size(), 1u);
  EXPECT_EQ(c->web_download_stall_timeout_seconds, 5);
}

TEST_F(ConfigTest, BadImportAndStoreOptionsAreRefused) {
  EXPECT_NE(LoadError("[DEFAULT]\nenabled_backends = a:swift\n").find("not supported"),
            std::string::npos);
  EXPECT_NE(LoadError("[DEFAULT]\nenabled_backends = a:file\n").find("default_backend"),
            std::string::npos);
  EXPECT_NE(LoadError("[DEFAULT]\nenabled_backends = a:file\n[glance_store]\n"
                      "default_backend = a\n")
                .find("filesystem_store_datadir"),
            std::string::npos);
  EXPECT_NE(LoadError("[DEFAULT]\nenabled_backends = a:file\n[glance_store]\n"
                      "default_backend = a\n[a]\nfilesystem_store_datadir = /x\nweight = 1.5\n")
                .find("[a] weight: value '1.5' is not an integer"),
            std::string::npos);
  EXPECT_NE(LoadError("[DEFAULT]\nnode_staging_uri = /tmp/x\n").find("file:///"),
            std::string::npos);
  EXPECT_NE(LoadError("[image_import_opts]\nimage_import_plugins = magic\n").find("unknown"),
            std::string::npos);
  EXPECT_NE(LoadError("[image_conversion]\noutput_format = vmdk\n").find("raw, qcow2"),
            std::string::npos);
  EXPECT_NE(LoadError("[glance_download_properties]\nregions = nowhere\n").find("REGION="),
            std::string::npos);
  EXPECT_NE(LoadError("[import_filtering_opts]\nallowed_cidrs = 999.1.1.1/8\n"), "");
}

TEST_F(ConfigTest, DatabaseConnection) {
  auto load = [&](const std::string& text) { return LoadConfig(Write(text), {}); };
  auto c = load("[database]\nconnection = postgresql://glimmer:pw@db.example:5432/glimmer\n"
                "max_pool_size = 20\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->database_connection, "postgresql://glimmer:pw@db.example:5432/glimmer");
  EXPECT_EQ(c->database_max_pool_size, 20);
  EXPECT_TRUE(load("[database]\nconnection = postgresql+psycopg2://u@h/d\n").ok());
  EXPECT_TRUE(load("[database]\nconnection = sqlite:////var/lib/glimmer/meta.db\n").ok());
  EXPECT_THAT(LoadError("[database]\nconnection = oracle://x\n"),
              HasSubstr("[database] connection: connection 'oracle://x' is not supported"));
  EXPECT_THAT(LoadError("[database]\nmax_pool_size = 0\n"), HasSubstr("out of range"));
  // oslo.db knobs of other drivers are accepted with a warning.
  auto tuned = load("[database]\nmax_overflow = 50\n");
  ASSERT_TRUE(tuned.ok());
  EXPECT_EQ(tuned->warnings.size(), 1u);
  // The environment reaches it as any option does.
  auto env = LoadConfig(std::nullopt, {{"GLIMMER_DATABASE__CONNECTION", "postgresql://e/f"}});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->database_connection, "postgresql://e/f");
}

TEST_F(ConfigTest, StoresOfEveryTypeAndTheirOptions) {
  // The single (legacy) store: [glance_store] default_store with its type's options.
  auto single = LoadConfig(Write("[glance_store]\ndefault_store = rbd\nrbd_store_pool = vms\n"
                                 "rbd_store_chunk_size = 4\ns3_store_host = http://ignored\n"),
                           {});
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  auto stores = single->Stores();
  ASSERT_EQ(stores.size(), 1u);
  EXPECT_EQ(stores[0].name, "rbd");
  EXPECT_EQ(stores[0].type, "rbd");
  EXPECT_TRUE(stores[0].is_default);
  // Only the rbd options reach the rbd store.
  EXPECT_EQ(stores[0].options, (std::map<std::string, std::string>{
                                   {"rbd_store_chunk_size", "4"}, {"rbd_store_pool", "vms"}}));

  // Several stores, in configuration order, the default marked.
  auto multi = LoadConfig(Write(R"(
[DEFAULT]
enabled_backends = local:file, ceph:rbd, objects:s3
[glance_store]
default_backend = ceph
[local]
filesystem_store_datadir = /srv/images
[ceph]
rbd_store_pool = images
rbd_thin_provisioning = false
weight = 10
[objects]
s3_store_host = http://rgw.example:8080
s3_store_access_key = AK
s3_store_secret_key = SK
s3_store_bucket = glance
s3_store_large_object_chunk_size = 16
)"),
                          {});
  ASSERT_TRUE(multi.ok()) << multi.status().ToString();
  stores = multi->Stores();
  ASSERT_EQ(stores.size(), 3u);
  EXPECT_EQ(stores[0].name, "local");
  EXPECT_FALSE(stores[0].is_default);
  EXPECT_EQ(stores[1].name, "ceph");
  EXPECT_TRUE(stores[1].is_default);
  EXPECT_EQ(stores[1].options.at("weight"), "10");
  EXPECT_EQ(stores[2].type, "s3");
  EXPECT_EQ(stores[2].options.at("s3_store_large_object_chunk_size"), "16");

  // Wrong kinds, ranges, options of another type, missing required options.
  const std::string head = "[DEFAULT]\nenabled_backends = c:rbd, o:s3\n[glance_store]\n"
                           "default_backend = c\n[o]\ns3_store_host = http://h\n"
                           "s3_store_access_key = a\ns3_store_secret_key = s\n"
                           "s3_store_bucket = b\n";
  EXPECT_TRUE(LoadConfig(Write(head), {}).ok());
  EXPECT_THAT(LoadError(head + "[c]\nrbd_store_chunk_size = 64\n"),
              HasSubstr("[c] rbd_store_chunk_size: value '64' is out of range [1, 32]"));
  EXPECT_THAT(LoadError(head + "[c]\nrbd_thin_provisioning = sometimes\n"),
              HasSubstr("is not a boolean"));
  EXPECT_THAT(LoadError(head + "[c]\ns3_store_bucket = x\n"),
              HasSubstr("[c] s3_store_bucket: not an option of a rbd store"));
  EXPECT_THAT(LoadError(head + "[o]\ns3_store_host = rgw:8080\n"),
              HasSubstr("is not an http:// or https:// URL"));
  EXPECT_THAT(LoadError(head + "[o]\ns3_store_large_object_chunk_size = 4\n"),
              HasSubstr("out of range [5, 5120]"));
  EXPECT_THAT(LoadError("[DEFAULT]\nenabled_backends = o:s3\n[glance_store]\n"
                        "default_backend = o\n[o]\ns3_store_host = http://h\n"),
              HasSubstr("[o] s3_store_access_key must be set for the s3 store 'o'"));
  EXPECT_THAT(LoadError("[glance_store]\ndefault_store = s3\n"),
              HasSubstr("[glance_store] s3_store_host must be set for the s3 store 's3'"));
}

TEST_F(ConfigTest, LoginThrottleOptions) {
  Config defaults;
  EXPECT_EQ(defaults.login_throttle_user_failures, 5);
  EXPECT_EQ(defaults.login_throttle_address_failures, 20);
  StatusOr<Config> c = LoadConfig(
      Write("[glimmer]\nlogin_throttle_user_failures = 0\nlogin_throttle_window_seconds = 60\n"
            "login_throttle_max_delay_seconds = 10\nlogin_throttle_max_entries = 500\n"),
      {{"GLIMMER_GLIMMER__LOGIN_THROTTLE_ADDRESS_FAILURES", "100"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->login_throttle_user_failures, 0);
  EXPECT_EQ(c->login_throttle_address_failures, 100);
  EXPECT_EQ(c->login_throttle_window_seconds, 60);
  EXPECT_EQ(c->login_throttle_max_delay_seconds, 10);
  EXPECT_EQ(c->login_throttle_max_entries, 500);
  EXPECT_THAT(LoadError("[glimmer]\nlogin_throttle_max_delay_seconds = 0\n"),
              HasSubstr("out of range"));
}

TEST_F(ConfigTest, HttpLimitsAndHealthcheck) {
  Config defaults;
  EXPECT_EQ(defaults.max_connections, 10000);
  EXPECT_EQ(defaults.min_body_rate_bytes, 1024);
  EXPECT_EQ(defaults.handler_threads, 0);  // automatic
  StatusOr<Config> c = LoadConfig(
      Write("[DEFAULT]\nmax_header_line = 8192\nclient_socket_timeout = 900\n"
            "http_keepalive = false\nbacklog = 128\n"
            "[glimmer]\nmax_connections = 5000\nmax_request_line = 4096\nmax_header_count = 64\n"
            "max_chunk_extension_bytes = 0\nheader_timeout_seconds = 5\n"
            "min_body_rate_bytes = 0\nmin_body_rate_window_seconds = 60\n"
            "[healthcheck]\ndisable_by_file_path = /etc/glance/healthcheck_disable\n"
            "detailed = true\nbackends = disable_by_file\n"),
      {{"GLIMMER_GLIMMER__MAX_HEADER_COUNT", "70"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->max_header_line, 8192);
  EXPECT_EQ(c->idle_timeout_seconds, 900);  // Glance's name for the keep-alive idle time
  EXPECT_FALSE(c->http_keepalive);
  EXPECT_EQ(c->backlog, 128);
  EXPECT_EQ(c->max_connections, 5000);
  EXPECT_EQ(c->max_request_line, 4096);
  EXPECT_EQ(c->max_header_count, 70);
  EXPECT_EQ(c->max_chunk_extension_bytes, 0);
  EXPECT_EQ(c->header_timeout_seconds, 5);
  EXPECT_EQ(c->min_body_rate_bytes, 0);
  EXPECT_EQ(c->min_body_rate_window_seconds, 60);
  EXPECT_EQ(c->healthcheck_disable_file, "/etc/glance/healthcheck_disable");
  EXPECT_THAT(c->warnings, Contains(HasSubstr("detailed")));
  EXPECT_THAT(LoadError("[glimmer]\nmax_connections = 3\n"), HasSubstr("out of range"));
  EXPECT_THAT(LoadError("[healthcheck]\nbogus = 1\n"), HasSubstr("bogus"));
}

}  // namespace
}  // namespace glimmer::server
