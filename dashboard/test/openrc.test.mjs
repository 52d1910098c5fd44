// The openrc: every value single-quoted, valid bash, and sourcing it with a password on stdin
// sets exactly the values of the session (including hostile project names).
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, test} from 'node:test';

import {cliCommands, openrcFileName, openrcText, openrcVariables, shellQuote} from '../src/lib/openrc.js';

const dir = mkdtempSync(join(tmpdir(), 'openrc-'));
after(() => rmSync(dir, {recursive: true, force: true}));

const HOSTILE = `o'brien "lab" $(touch ${dir}/pwned) \`id\` $HOME \\ ; & | ! * \n next line`;
const session = {
  user: {id: 'u1', name: 'alice', domain: {id: 'default', name: 'Default'}},
  project: {id: 'a1b2c3d4e5f6478890aabbccddeeff00', name: HOSTILE, domain: {id: 'default', name: 'Default'}},
  endpoints: {identity: 'http://127.0.0.1:9292/identity/v3', image: 'http://127.0.0.1:9292', region: 'RegionOne', interface: 'public'},
};

function source(text, password, print) {
  const file = join(dir, 'openrc.sh');
  writeFileSync(file, text);
  return execFileSync('bash', ['-c', `. '${file}' && ${print}`], {input: `${password}\n`, env: {PATH: process.env.PATH, HOME: dir}}).toString();
}

test('shell quoting', () => {
  assert.equal(shellQuote('plain'), "'plain'");
  assert.equal(shellQuote("it's"), "'it'\\''s'");
  assert.equal(shellQuote(''), "''");
  assert.equal(shellQuote(null), "''");
  for (const value of [HOSTILE, "'", "''", '\\', '$(id)', 'a\nb']) {
    assert.equal(execFileSync('bash', ['-c', `printf %s ${shellQuote(value)}`]).toString(), value);
  }
});

test('the variables the issue lists, in order', () => {
  assert.deepEqual(openrcVariables(session).map(([k]) => k), [
    'OS_AUTH_URL', 'OS_PROJECT_ID', 'OS_PROJECT_NAME', 'OS_USER_DOMAIN_NAME', 'OS_PROJECT_DOMAIN_ID',
    'OS_USERNAME', 'OS_REGION_NAME', 'OS_INTERFACE', 'OS_IDENTITY_API_VERSION', 'OS_IMAGE_API_VERSION']);
});

test('bash -n accepts it and no password is in it', () => {
  const text = openrcText(session);
  writeFileSync(join(dir, 'check.sh'), text);
  execFileSync('bash', ['-n', join(dir, 'check.sh')]);
  assert.doesNotMatch(text, /OS_PASSWORD=['"]?[^"$]/);
  assert.match(text, /read -sr OS_PASSWORD_INPUT/);
});

test('sourcing it with a password sets every value exactly and runs nothing', () => {
  const out = source(openrcText(session), "pa ss'word$x",
                     'env -0 | grep -z ^OS_ | sort -z | tr "\\0" "\\036"');
  const env = Object.fromEntries(out.split('\x1e').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  for (const [k, v] of openrcVariables(session)) assert.equal(env[k], v, k);
  assert.equal(env.OS_PASSWORD, "pa ss'word$x");
  assert.equal(env.OS_PROJECT_NAME, HOSTILE);
  assert.equal(env.OS_PASSWORD_INPUT, undefined);
  assert.equal(execFileSync('bash', ['-c', `test -e '${dir}/pwned' && echo yes || echo no`]).toString().trim(), 'no');
});

test('a domain given by name, and no region', () => {
  const s = {...session, project: {...session.project, domain: 'Default'}, endpoints: {identity: 'http://x/v3'}};
  const names = openrcVariables(s).map(([k]) => k);
  assert.ok(names.includes('OS_PROJECT_DOMAIN_NAME'));
  assert.ok(!names.includes('OS_REGION_NAME'));
  const out = source(openrcText(s), 'pw', 'echo "${OS_REGION_NAME-unset}|$OS_PROJECT_DOMAIN_NAME|$OS_INTERFACE"');
  assert.equal(out.trim(), 'unset|Default|public');
});

test('an earlier OS_CLOUD or OS_TOKEN does not linger', () => {
  writeFileSync(join(dir, 'openrc.sh'), openrcText(session));
  const out = execFileSync('bash', ['-c', `. '${dir}/openrc.sh' && echo "\${OS_CLOUD-unset}\${OS_TOKEN-unset}"`],
                           {input: 'pw\n', env: {PATH: process.env.PATH, OS_CLOUD: 'other', OS_TOKEN: 'tok'}});
  assert.equal(out.toString().trim(), 'unsetunset');
});

test('file name is safe', () => {
  assert.equal(openrcFileName({project: {name: 'demo'}}), 'demo-openrc.sh');
  assert.equal(openrcFileName({project: {name: "o'brien lab"}}), 'o_brien_lab-openrc.sh');
  assert.equal(openrcFileName({project: {name: '../..'}}), '_..-openrc.sh');
  assert.equal(openrcFileName({project: {name: ''}}), 'project-openrc.sh');
  assert.match(openrcFileName(session), /^[A-Za-z0-9._-]+-openrc\.sh$/);
});

test('CLI commands carry the real values', () => {
  const cmds = cliCommands({...session, project: {...session.project, name: 'demo'}}, {id: 'img-1', name: 'x'});
  const text = cmds.map((c) => c.command).join('\n');
  assert.match(text, /\. \.\/demo-openrc\.sh/);
  assert.match(text, /openstack image list/);
  assert.match(text, /openstack image create --disk-format raw --container-format bare/);
  assert.match(text, /openstack image add project 'img-1'/);
  assert.match(text, /openstack image set --accept 'img-1'/);
  assert.match(cliCommands(session, null)[3].command, /<image id>/);
});
