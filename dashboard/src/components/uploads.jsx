// The progress of one image creation (upload or web-download), and the tray listing them all.
import {useEffect, useState} from 'preact/hooks';

import {explain, patchImage} from '../lib/api.js';
import {percentOf, progressText} from '../lib/progress_math.js';
import {humanDuration, humanSize} from '../lib/units.js';
import {cancel, deleteFailed, dismiss, dismissFinished, elapsedSeconds, isRunning, useUploads} from '../lib/uploads.js';
import {toast} from './toast.jsx';

const PHASES = {
  creating: 'Creating the image record', uploading: 'Uploading', processing: 'Checking and storing',
  importing: 'Importing from the URL', cancelling: 'Cancelling', done: 'Active',
  failed: 'Failed', cancelled: 'Cancelled',
};

function useTick(active) {
  const [, setT] = useState(0);
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => setT((t) => t + 1), 1000);
    return () => clearInterval(timer);
  }, [active]);
}

export function UploadProgress({job}) {
  useTick(isRunning(job));
  const [fixing, setFixing] = useState(false);
  const percent = percentOf(job.loaded, job.total);
  const text = progressText({
    percent, loaded: humanSize(job.loaded), total: humanSize(job.total),
    speed: job.speed ? humanSize(job.speed) : '',
    left: job.secondsLeft !== null && job.phase === 'uploading' ? humanDuration(job.secondsLeft) : '',
  });
  const id = job.image?.id;

  async function fixMinDisk() {
    setFixing(true);
    try {
      job.image = await patchImage(id, [{op: 'replace', path: '/min_disk', value: job.shortfall.needed}]);
      toast(`Minimum disk of "${job.name}" set to ${job.shortfall.needed} GiB.`);
      job.shortfall = null;
    } catch (e) {
      toast(explain(e, 'change the minimum disk'), 'error');
    } finally {
      setFixing(false);
    }
  }

  return (
    <div class={`job job-${job.phase}`} data-job={job.name}>
      <p class="job-head">
        <strong>{id ? <a href={`#/images/${id}`}>{job.name}</a> : job.name}</strong>
        {' '}<span class={`phase phase-${job.phase}`}>{PHASES[job.phase]}</span>
      </p>
      {job.kind === 'file' && ['uploading', 'processing', 'creating'].includes(job.phase) && (
        <>
          <progress max="100" value={percent} aria-label={`Upload of ${job.name}`}
                    aria-valuetext={text} />
          <p class="job-numbers">{text}</p>
        </>
      )}
      {job.kind === 'url' && job.phase === 'importing' && (
        <>
          <progress aria-label={`Import of ${job.name}`} />
          <p class="job-numbers">{humanDuration(elapsedSeconds(job))} elapsed</p>
        </>
      )}
      {job.message && <p class="job-message">{job.message}</p>}
      {job.error && <p class="error" role="alert">{job.error}</p>}
      {job.shortfall && (
        <div class="warning" role="alert">
          <p>The image's virtual size is {humanSize(job.image.virtual_size)}, but its minimum disk is
            {' '}{job.image.min_disk} GiB: instances would get a disk too small to hold it.</p>
          <button type="button" onClick={fixMinDisk} disabled={fixing}>
            Set minimum disk to {job.shortfall.needed} GiB</button>
        </div>
      )}
      <div class="job-actions">
        {isRunning(job) && job.phase !== 'cancelling' && (
          <button type="button" onClick={() => cancel(job)}>Cancel {job.kind === 'file' ? 'upload' : 'import'}</button>
        )}
        {job.phase === 'failed' && job.image && (
          <button type="button" onClick={() => deleteFailed(job).then(
              () => toast(`Deleted "${job.name}".`), (e) => toast(explain(e, 'delete the image'), 'error'))}>
            Delete the empty image</button>
        )}
      </div>
    </div>
  );
}

/**
 * Every running or finished creation, on every page, until dismissed. Open while something runs;
 * once all are finished it folds into a one-line bar so it does not cover the page.
 */
export function UploadTray() {
  const jobs = useUploads();
  const running = jobs.filter(isRunning).length;
  const [open, setOpen] = useState(true);
  useEffect(() => { if (running) setOpen(true); }, [running]);
  useEffect(() => {
    const t = !running && open ? setTimeout(() => setOpen(false), 8000) : null;
    return () => clearTimeout(t);
  }, [running, open]);
  useEffect(() => {
    document.body.classList.toggle('has-tray', jobs.length > 0);
  }, [jobs.length]);
  if (!jobs.length) return null;
  const summary = running ? `${running} running, ${jobs.length - running} finished` : `${jobs.length} finished`;
  return (
    <aside class={`tray ${open ? 'open' : 'folded'}`} aria-label="Uploads and imports">
      <div class="tray-head">
        <h2 class="tray-title">
          <button type="button" class="link" aria-expanded={open} onClick={() => setOpen(!open)}>
            Uploads and imports</button> <span class="muted">({summary})</span></h2>
        {jobs.some((j) => !isRunning(j)) && (
          <button type="button" class="link" onClick={dismissFinished}>Clear finished</button>
        )}
      </div>
      {open && jobs.map((job) => (
        <div class="tray-item" key={job.key}>
          <UploadProgress job={job} />
          {!isRunning(job) && (
            <button type="button" class="link" onClick={() => dismiss(job)}>Dismiss</button>
          )}
        </div>
      ))}
    </aside>
  );
}
