import assert from 'node:assert/strict';
import {test} from 'node:test';

import {imagesQuery, inList, listStateFromParams, listStateToParams, mergeFilterForm, nextMarker, refreshQuery,
        validateFilters} from '../src/lib/list_query.js';
import {formatHash, parseHash} from '../src/lib/router.js';

const P = 'a1b2c3d4e5f6478890aabbccddeeff00';
const state = (params) => listStateFromParams(new URLSearchParams(params));
const query = (params) => Object.fromEntries([...imagesQuery(state(params), P)].reduce((m, [k, v]) => {
  m.set(k, m.has(k) ? [].concat(m.get(k), v) : v);
  return m;
}, new Map()));

test('defaults: the project tab, newest first, 25 a page', () => {
  assert.deepEqual(query(''), {owner: P, sort: 'created_at:desc', limit: '25'});
});

test('tabs map to Glance visibility / member_status', () => {
  assert.deepEqual(query('tab=shared'), {visibility: 'shared', member_status: 'pending', sort: 'created_at:desc', limit: '25'});
  assert.equal(query('tab=shared&member=accepted').member_status, 'accepted');
  assert.equal(query('tab=public').visibility, 'public');
  assert.equal(query('tab=community').visibility, 'community');
  assert.equal(query('tab=all').visibility, 'all');
  assert.equal(query('tab=all&visibility=private').visibility, 'private');
  assert.equal(query('tab=public&visibility=private').visibility, 'public');  // the tab wins
});

test('filters map 1:1 to query parameters', () => {
  assert.deepEqual(query('name=my, "image":1&status=active&format=qcow2&tags=a, b,,&protected=true&size_min=1.5&size_max=2&unit=GiB&sort=size:asc&limit=50&m=m1,m2'), {
    owner: P, name: 'in:"my, image:1"', status: 'active', disk_format: 'qcow2', tag: ['a', 'b'],
    protected: 'true', size_min: String(1.5 * 1024 ** 3), size_max: String(2 * 1024 ** 3),
    sort: 'size:asc', limit: '50', marker: 'm2'});
  assert.equal(query('size_min=100&unit=MiB').size_min, String(100 * 1024 ** 2));
});

test('bad values fall back to defaults; bad sizes are flagged, not sent', () => {
  const s = state('tab=nope&sort=evil:up&limit=7&unit=TB&member=x&size_min=-1');
  assert.equal(s.tab, 'project');
  assert.equal(s.sort, 'created_at:desc');
  assert.equal(s.limit, 25);
  assert.equal(s.unit, 'GiB');
  assert.equal(s.member, 'pending');
  assert.deepEqual(validateFilters(s), {size_min: 'Enter a size of 0 or more.'});
  assert.equal(imagesQuery(s, P).has('size_min'), false);
  assert.deepEqual(validateFilters(state('size_min=5&size_max=2')), {size_max: 'The largest size is smaller than the smallest.'});
});

test('list state round-trips through the URL hash, minimal when default', () => {
  const s = state('tab=public&name=x&sort=name:asc&limit=100&m=a,b');
  assert.equal(listStateToParams(s).toString(), 'tab=public&name=x&sort=name%3Aasc&limit=100&m=a%2Cb');
  assert.deepEqual(state(listStateToParams(s)), s);
  assert.equal(listStateToParams(state('')).toString(), '');
  const hash = formatHash(['images'], listStateToParams(s));
  const back = parseHash(hash);
  assert.deepEqual(back.path, ['images']);
  assert.deepEqual(listStateFromParams(back.params), s);
});

test('routes', () => {
  assert.deepEqual(parseHash('').path, ['images']);
  assert.deepEqual(parseHash('#/images/abc-1').path, ['images', 'abc-1']);
  assert.deepEqual(parseHash('#/usage').path, ['usage']);
  assert.equal(parseHash('#/images?tab=all').params.get('tab'), 'all');
});

test('one refresh request for the changing rows', () => {
  assert.equal(refreshQuery(['a', 'b']).toString(), 'id=in%3A%22a%22%2C%22b%22&limit=2');
  assert.equal(inList(['x"y', 'z']), 'in:"xy","z"');
});

test('next marker from Glance\'s next link', () => {
  assert.equal(nextMarker({next: '/v2/images?limit=25&marker=abc&sort=name%3Aasc'}), 'abc');
  assert.equal(nextMarker({}), null);
});

test('the filter form keeps a field typed while an applied change loads', () => {
  const before = {status: '', format: '', size_min: '', markers: []};
  const after = {status: 'active', format: 'qcow2', size_min: '', markers: []};
  // size typed after the format select applied, before its list arrived: kept
  assert.deepEqual(mergeFilterForm({...before, format: 'qcow2', size_min: '100'}, before, after),
                   {...after, size_min: '100'});
  // nothing typed: the form shows the new state
  assert.deepEqual(mergeFilterForm(before, before, after), after);
  // a field the change itself set (clear, reload) takes the state's value over the typed one
  assert.deepEqual(mergeFilterForm({...before, status: 'queued'}, before, after), after);
});
