// Error bodies as Glimmer (and Glance, through webob) send them.
import assert from 'node:assert/strict';
import {test} from 'node:test';

import {messageFromBody} from '../src/lib/api.js';

test("Glance's webob tail is dropped from error messages", () => {
  assert.equal(messageFromBody('{"message": "No image found with ID nope<br /><br />\\n\\n\\n", "code": "404 Not Found", "title": "Not Found"}', 'x'),
               'No image found with ID nope');
  assert.equal(messageFromBody('{"message": "The request media type application/octet-stream is not supported by this server.\\n<br /><br />\\nImage failed safety checks: mbr: MBR has no partitions", "code": "415 Unsupported Media Type", "title": "Unsupported Media Type"}', 'x'),
               'The request media type application/octet-stream is not supported by this server. Image failed safety checks: mbr: MBR has no partitions');
  assert.equal(messageFromBody('{"message": "<br /><br />\\n\\n\\n", "title": "Conflict"}', 'x'), 'Conflict');
});

test('Keystone errors, HTML bodies and empty bodies', () => {
  assert.equal(messageFromBody('{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}', 'x'),
               'The request you have made requires authentication.');
  assert.equal(messageFromBody('<html><body><h1>413 Request Entity Too Large</h1></body></html>', 'x'), '413 Request Entity Too Large');
  assert.equal(messageFromBody('', 'Bad Gateway'), 'Bad Gateway');
});
