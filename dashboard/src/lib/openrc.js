// The openrc file and the CLI commands of the API access page, generated in the browser from the
// session document. Pure functions: test/openrc.test.mjs runs the result through bash.
//
// Session fields used (docs/design/dashboard.md §3.1): user {name, domain}, project {id, name,
// domain}, endpoints {identity, image, region, interface}. A domain may be an object {id, name}
// or a plain name.

/** One shell word: single-quoted, with each ' written as '\'' (project names are user data). */
export function shellQuote(value) {
  return `'${String(value ?? '').replaceAll("'", "'\\''")}'`;
}

const domainName = (d) => (typeof d === 'string' ? d : d?.name ?? '');
const domainId = (d) => (typeof d === 'string' ? '' : d?.id ?? '');

/** The variables the openrc sets, in order, as [name, value] pairs. */
export function openrcVariables(session) {
  const e = session.endpoints ?? {};
  const vars = [
    ['OS_AUTH_URL', e.identity ?? ''],
    ['OS_PROJECT_ID', session.project.id],
    ['OS_PROJECT_NAME', session.project.name],
    ['OS_USER_DOMAIN_NAME', domainName(session.user.domain) || 'Default'],
  ];
  const pid = domainId(session.project.domain);
  if (pid) vars.push(['OS_PROJECT_DOMAIN_ID', pid]);
  else vars.push(['OS_PROJECT_DOMAIN_NAME', domainName(session.project.domain) || 'Default']);
  vars.push(['OS_USERNAME', session.user.name]);
  if (e.region) vars.push(['OS_REGION_NAME', e.region]);
  vars.push(['OS_INTERFACE', e.interface ?? 'public'],
            ['OS_IDENTITY_API_VERSION', '3'],
            ['OS_IMAGE_API_VERSION', '2']);
  return vars;
}

/** The openrc text: sourced by bash, it asks for the password; nothing secret is in it. */
export function openrcText(session) {
  const lines = [
    '#!/usr/bin/env bash',
    '# OpenStack credentials for the command-line clients, from the Glimmer dashboard.',
    `# User ${session.user.name}, project ${session.project.name}. Use it with:  . ./${openrcFileName(session)}`,
    '# The password is asked for each time and is not stored in this file.',
    '',
    '# Variables of other openrc flavours that would conflict with these.',
    'unset OS_TENANT_ID OS_TENANT_NAME OS_PROJECT_DOMAIN_NAME OS_PROJECT_DOMAIN_ID OS_REGION_NAME',
    'unset OS_TOKEN OS_AUTH_TYPE OS_CLOUD',
    '',
  ];
  for (const [name, value] of openrcVariables(session)) {
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  lines.push(
      '',
      'printf \'Password for user %s in project %s: \' "$OS_USERNAME" "$OS_PROJECT_NAME" >&2',
      'IFS= read -sr OS_PASSWORD_INPUT',
      'printf \'\\n\' >&2',
      'export OS_PASSWORD="$OS_PASSWORD_INPUT"',
      'unset OS_PASSWORD_INPUT',
      '');
  return lines.join('\n');
}

/** "demo-openrc.sh", keeping only characters that are safe in a file name. */
export function openrcFileName(session) {
  const safe = String(session.project.name).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[.]+/, '');
  return `${safe || 'project'}-openrc.sh`;
}

/**
 * The guide's commands for this cloud, with the real values filled in. `image` is {id, name} of
 * an image to use in the examples, or null for placeholders.
 */
export function cliCommands(session, image) {
  const file = openrcFileName(session);
  const ref = image ? shellQuote(image.id) : '<image id>';
  return [
    {title: 'Load the credentials (asks for your password)', command: `. ./${file}`},
    {title: 'List the images you can use', command: 'openstack image list'},
    {title: 'Create an image from a raw file (recommended format)',
     command: 'openstack image create --disk-format raw --container-format bare ' +
              '--file ./disk.raw --min-disk 10 --private my-image'},
    {title: 'Share an image with another project',
     command: `openstack image set --shared ${ref}\nopenstack image add project ${ref} <project id>`},
    {title: `Accept an image shared with ${session.project.name}`,
     command: `openstack image set --accept ${ref}\nopenstack image member list ${ref}`},
  ];
}
