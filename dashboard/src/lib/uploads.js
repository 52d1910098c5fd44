// Image creations in progress (file uploads and web-download imports). They live in this module,
// not in the dialog, so they outlive it: the tray (components/uploads.jsx) shows them on every
// page, and a beforeunload prompt guards them.
//
// A file upload: POST /v2/images, then one XHR `PUT /v2/images/{id}/file` sending the File (the
// browser streams it from disk) with x-openstack-image-size, then GET /v2/images/{id} every
// second until `active`, or a failure with its reason: the PUT's error body, or the image's task
// message. Cancel: xhr.abort(), DELETE the image, then confirm that GET answers 404.
// A web-download: POST /v2/images, POST …/import {method: {name: web-download, uri}}, then the
// same polling, showing the task's message meanwhile.
import {useEffect, useState} from 'preact/hooks';

import {BASE, ApiError, createImage, csrfHeaders, deleteImage, getImage, imageGone, imageTasks,
        messageFromBody, startImport} from './api.js';
import {minDiskShortfall} from './formats.js';
import {SpeedMeter} from './progress_math.js';

const jobs = new Map();  // key -> job
const listeners = new Set();
let counter = 0;
const POLL_MS = 1000;
const FAILED = new Set(['killed', 'deleted']);

function emit() {
  for (const fn of listeners) fn([...jobs.values()]);
}
function update(job, fields) {
  Object.assign(job, fields);
  emit();
}

/** All jobs, re-rendered on every change. */
export function useUploads() {
  const [list, setList] = useState([...jobs.values()]);
  useEffect(() => {
    listeners.add(setList);
    return () => listeners.delete(setList);
  }, []);
  return list;
}

export const runningJobs = () => [...jobs.values()].filter((j) => isRunning(j));
export const isRunning = (job) => ['creating', 'uploading', 'processing', 'importing', 'cancelling'].includes(job.phase);

window.addEventListener?.('beforeunload', (e) => {
  if (runningJobs().length) {
    e.preventDefault();
    e.returnValue = '';
  }
});

function newJob(kind, body) {
  const job = {key: ++counter, kind, name: body.name || '(no name)', phase: 'creating', image: null,
               loaded: 0, total: 0, speed: null, secondsLeft: null, startedAt: Date.now(),
               message: '', error: '', shortfall: null, xhr: null, cancelled: false};
  jobs.set(job.key, job);
  emit();
  return job;
}

export function dismiss(job) {
  if (isRunning(job)) return;
  jobs.delete(job.key);
  emit();
}

/** Creates the image and uploads `file` into it. Returns the job (see useUploads). */
export function startFileUpload(body, file) {
  const job = newJob('file', body);
  job.total = file.size;
  (async () => {
    try {
      job.image = await createImage(body);
      if (job.cancelled) return;
      update(job, {phase: 'uploading'});
      await putFile(job, file);
      if (job.cancelled) return;
      update(job, {phase: 'processing', message: 'The server is checking and storing the data.'});
      await waitUntilActive(job);
    } catch (e) {
      if (!job.cancelled) await fail(job, e);
    }
  })();
  return job;
}

/** Creates the image and asks the server to fetch `uri` (web-download). */
export function startWebDownload(body, uri) {
  const job = newJob('url', body);
  (async () => {
    try {
      job.image = await createImage(body);
      if (job.cancelled) return;
      update(job, {phase: 'importing', message: 'Asking the server to download the image.'});
      await startImport(job.image.id, {name: 'web-download', uri});
      await waitUntilActive(job);
    } catch (e) {
      if (!job.cancelled) await fail(job, e);
    }
  })();
  return job;
}

function putFile(job, file) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    job.xhr = xhr;
    const meter = new SpeedMeter();
    xhr.open('PUT', `${BASE}/v2/images/${encodeURIComponent(job.image.id)}/file`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('x-openstack-image-size', String(file.size));
    for (const [k, v] of Object.entries(csrfHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      const speed = meter.update(e.loaded, performance.now());
      update(job, {loaded: e.loaded, speed, secondsLeft: meter.secondsLeft(file.size)});
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        update(job, {loaded: file.size, secondsLeft: 0});
        resolve();
      } else {
        reject(new ApiError(xhr.status, messageFromBody(xhr.responseText, xhr.statusText)));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'The connection to the server was lost during the upload.'));
    xhr.onabort = () => reject(new ApiError(0, 'The upload was stopped.'));
    xhr.send(file);
  });
}

async function waitUntilActive(job) {
  for (;;) {
    if (job.cancelled) return;
    const image = await getImage(job.image.id);
    job.image = image;
    if (image.status === 'active') {
      update(job, {phase: 'done', message: 'The image is active.', shortfall: minDiskShortfall(image)});
      return;
    }
    const failedStores = image.os_glance_failed_import;
    if (FAILED.has(image.status) || failedStores) {
      throw new ApiError(-1, await taskMessage(job) ?? `The image went to "${image.status}".`);
    }
    if (job.kind === 'url' || image.status === 'importing') {
      const task = await latestTask(job);
      if (task?.status === 'failure') throw new ApiError(-1, task.message || 'The import task failed.');
      if (image.status === 'queued' && task?.status === 'success') {
        throw new ApiError(-1, 'The import finished but the image has no data.');
      }
      if (task?.message) update(job, {message: task.message});
    } else if (image.status === 'queued' && job.kind === 'file') {
      // The PUT succeeded yet the image is back to queued: the data was rolled back.
      throw new ApiError(-1, await taskMessage(job) ?? 'The server did not keep the data (image back to "queued").');
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function latestTask(job) {
  try {
    const tasks = (await imageTasks(job.image.id))?.tasks ?? [];
    return tasks.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)))[0] ?? null;
  } catch {
    return null;  // tasks may be hidden by policy: the image status still tells the outcome
  }
}

async function taskMessage(job) {
  const task = await latestTask(job);
  return task?.message || null;
}

async function fail(job, e) {
  let reason = e.message;
  if (e.status > 0) {
    const what = {400: 'The server refused the upload', 401: 'Your session ended during the upload',
                  403: 'Your role does not allow this', 409: 'The image was not ready for data',
                  410: 'The image was deleted during the upload',
                  413: 'The image is larger than the project\'s quota or the size limit',
                  415: 'The data does not match the chosen format'}[e.status];
    if (what) reason = `${what}: ${e.message}`;
  }
  update(job, {phase: 'failed', error: reason,
               message: job.image ? `The image "${job.name}" has no data; delete it or try again.` : ''});
}

/** Stops a running upload or import, deletes the image and checks that it is gone. */
export async function cancel(job) {
  job.cancelled = true;
  update(job, {phase: 'cancelling', message: 'Stopping and deleting the image…'});
  job.xhr?.abort();
  try {
    if (!job.image) {
      // The create call may still be answering: wait for it so the image does not survive.
      for (let i = 0; i < 50 && !job.image; i++) await new Promise((r) => setTimeout(r, 100));
    }
    if (job.image) {
      try {
        await deleteImage(job.image.id);
      } catch (e) {
        if (e.status !== 404) throw e;
      }
      if (!(await imageGone(job.image.id))) throw new Error('the image still exists');
    }
    update(job, {phase: 'cancelled', message: 'Cancelled; the image was deleted.'});
  } catch (e) {
    update(job, {phase: 'failed', error: `Cancelling did not delete the image: ${e.message}`});
  }
}

/** Deletes the image of a failed job. */
export async function deleteFailed(job) {
  try {
    await deleteImage(job.image.id);
  } catch (e) {
    if (e.status !== 404) throw e;
  }
  jobs.delete(job.key);
  emit();
}

/** On sign-out: stops running uploads (the server rolls them back) and forgets every job. */
export function clearJobs() {
  for (const job of jobs.values()) {
    job.cancelled = true;
    job.xhr?.abort();
  }
  jobs.clear();
  emit();
}

/** Forgets the jobs that have finished (done, failed or cancelled). */
export function dismissFinished() {
  for (const job of [...jobs.values()]) if (!isRunning(job)) jobs.delete(job.key);
  emit();
}

export function elapsedSeconds(job) {
  return (Date.now() - job.startedAt) / 1000;
}
