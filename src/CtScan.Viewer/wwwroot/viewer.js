// The results page: polls /api/results, shows one result with its volume (NiiVue), saliency overlay, montage and JSON.
// Everything comes from this viewer's own API; the page holds no storage credential.

const $ = (id) => document.getElementById(id);
const blobPath = (name) => name.split('/').map(encodeURIComponent).join('/');

const state = { config: null, selected: null, niivue: null, shownRows: null };

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(await problem(response));
  return response.json();
}

async function problem(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status} ${response.statusText}`;
  }
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text ?? '–';
  if (className) td.className = className;
  return td;
}

// Local time, sortable and short: 2026-11-29 18:00:30.
function shortTime(date) {
  const two = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

async function refresh() {
  const query = new URLSearchParams();
  if ($('filter-status').value) query.set('status', $('filter-status').value);
  if ($('filter-label').value) query.set('label', $('filter-label').value);
  try {
    const rows = await getJson(`/api/results?${query}`);
    renderTable(rows);
    $('list-error').hidden = true;
  } catch (e) {
    $('list-error').textContent = `Cannot list results: ${e.message}`;
    $('list-error').hidden = false;
  }
}

function renderTable(rows) {
  // Re-drawn only when something changed: a row under the pointer stays the same element between polls.
  const text = JSON.stringify(rows);
  if (text === state.shownRows) return;
  const before = state.shownRows ? JSON.parse(state.shownRows).find((r) => r.name === state.selected) : undefined;
  state.shownRows = text;
  const body = $('results').tBodies[0];
  const fresh = document.createElement('tbody');
  for (const r of rows) {
    const tr = fresh.insertRow();
    tr.dataset.name = r.name;
    tr.dataset.status = r.status;
    cell(tr, r.scan, 'scan');
    cell(tr, r.status, `status-${r.status}`);
    cell(tr, r.label, r.label ? `label-${r.label}` : undefined);
    cell(tr, r.probabilityAbnormal == null ? null : r.probabilityAbnormal.toFixed(4));
    cell(tr, r.modelVersion ?? r.errorCode, 'model');
    cell(tr, r.createdAt ? shortTime(new Date(r.createdAt)) : null);
    if (r.name === state.selected) tr.classList.add('selected');
    tr.addEventListener('click', () => select(r));
  }
  body.replaceWith(fresh);
  $('count').textContent = `${rows.length} result${rows.length === 1 ? '' : 's'}`;
  // The open result changed (rewritten, or its explanation arrived after scoring): show the new version.
  const now = rows.find((r) => r.name === state.selected);
  if (before && now && JSON.stringify(before) !== JSON.stringify(now)) select(now);
}

async function select(summary) {
  state.selected = summary.name;
  history.replaceState(null, '', `#${encodeURIComponent(summary.name)}`);
  for (const tr of $('results').tBodies[0].rows) tr.classList.toggle('selected', tr.dataset.name === summary.name);
  $('detail').hidden = false;
  $('detail-scan').textContent = summary.scan;
  $('json').textContent = 'loading …';

  let result;
  try {
    result = await getJson(`/api/results/${blobPath(summary.name)}`);
  } catch (e) {
    $('json').textContent = `Cannot read the result: ${e.message}`;
    return;
  }
  if (state.selected !== summary.name) return; // another row was clicked meanwhile
  $('json').textContent = JSON.stringify(result, null, 2);

  const error = result.error;
  $('error').hidden = !error;
  if (error) {
    $('error-code').textContent = error.code;
    $('error-message').textContent = error.message;
  }

  const explanation = result.explanation;
  $('montage-figure').hidden = !explanation?.montage;
  if (explanation?.montage) {
    $('montage').src = `/api/results/${blobPath(explanation.montage)}`;
    $('montage-caption').textContent = `${explanation.method ?? 'saliency'} map over the scan`;
  }
  await showVolume(result.scan, explanation?.map ?? null);
}

async function showVolume(scan, map) {
  const status = $('volume-status');
  $('opacity-control').hidden = true;
  if (state.config.niivueMissing) {
    status.textContent = state.config.niivueMissing;
    status.dataset.state = 'error';
    return;
  }
  status.textContent = `loading ${scan} …`;
  status.dataset.state = 'loading';
  try {
    const nv = await niivue();
    const volumes = [{ url: `/api/scans/${blobPath(scan)}`, name: scan.split('/').pop() }];
    if (map) {
      volumes.push({ url: `/api/results/${blobPath(map)}`, name: map.split('/').pop(), colormap: 'warm', opacity: Number($('opacity').value) });
    }
    await nv.loadVolumes(volumes);
    if (state.selected === null || $('detail-scan').textContent !== scan) return;
    nv.setSliceType(nv.sliceTypeMultiplanar);
    if (map) {
      try {
        focusOnMap(nv);
      } catch (e) {
        console.warn(`cannot focus on the map: ${e.message}`);
      }
    }
    $('opacity-control').hidden = !map;
    status.textContent = map ? `${scan} with its saliency map` : `${scan} (no saliency map in this result)`;
    status.dataset.state = 'loaded';
  } catch (e) {
    status.textContent = `NiiVue cannot show ${scan}: ${e.message ?? e}`;
    status.dataset.state = 'error';
  }
}

// Shows the map where it says something: voxels below a fifth of its range are transparent, so the scan stays
// visible around the hot spots; then puts the crosshair on the map's highest voxel, so the three slices show where
// the model looked.
function focusOnMap(nv) {
  const overlay = nv.volumes[1];
  const values = overlay?.img;
  if (!values?.length) return;
  let peak = 0;
  for (let v = 1; v < values.length; v++) if (values[v] > values[peak]) peak = v;
  let low = values[0];
  for (let v = 1; v < values.length; v++) if (values[v] < low) low = values[v];
  overlay.cal_min = low + 0.2 * (values[peak] - low);
  overlay.cal_max = values[peak];
  nv.updateGLVolume();

  // The stored voxel order (NIfTI dims[1..3]) through the header's affine to mm; NiiVue places mm in any orientation.
  const [, nx, ny] = overlay.hdr.dims;
  const voxel = [peak % nx, Math.floor(peak / nx) % ny, Math.floor(peak / (nx * ny)), 1];
  const mm = overlay.hdr.affine.slice(0, 3).map((row) => row.reduce((sum, a, c) => sum + a * voxel[c], 0));
  nv.scene.crosshairPos = nv.mm2frac(mm);
  nv.drawScene();
}

async function niivue() {
  if (!state.niivue) {
    const { Niivue } = await import('/vendor/niivue/index.js');
    const nv = new Niivue({ backColor: [0, 0, 0, 1], show3Dcrosshair: false, isColorbar: false });
    await nv.attachToCanvas($('gl'));
    state.niivue = nv;
  }
  return state.niivue;
}

function setUpUpload() {
  const drop = $('drop');
  drop.hidden = !state.config.allowUpload;
  if (!state.config.allowUpload) return;
  $('scans-container').textContent = state.config.scansContainer;
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    upload([...e.dataTransfer.files]);
  });
  $('file-input').addEventListener('change', (e) => upload([...e.target.files]));
}

async function upload(files) {
  for (const file of files) {
    const line = document.createElement('li');
    line.textContent = `${file.name}: uploading …`;
    $('uploads').prepend(line);
    try {
      const response = await fetch(`/api/scans/${blobPath(file.name)}`, {
        method: 'PUT', body: file, headers: { 'X-CtScan-Viewer': 'upload', 'Content-Type': 'application/octet-stream' },
      });
      line.textContent = response.ok ? `${file.name}: uploaded; its result appears above when scored` : `${file.name}: ${await problem(response)}`;
    } catch (e) {
      line.textContent = `${file.name}: ${e.message}`;
    }
  }
}

async function start() {
  state.config = await getJson('/api/config');
  $('filter-status').addEventListener('change', refresh);
  $('filter-label').addEventListener('change', refresh);
  $('opacity').addEventListener('input', () => {
    if (state.niivue?.volumes.length > 1) state.niivue.setOpacity(1, Number($('opacity').value));
  });
  setUpUpload();
  await refresh();
  setInterval(refresh, state.config.pollMilliseconds);
  const linked = decodeURIComponent(location.hash.slice(1));
  if (linked) {
    const rows = await getJson('/api/results');
    const row = rows.find((r) => r.name === linked);
    if (row) await select(row);
  }
}

start().catch((e) => {
  $('list-error').textContent = `The viewer did not start: ${e.message}`;
  $('list-error').hidden = false;
});
