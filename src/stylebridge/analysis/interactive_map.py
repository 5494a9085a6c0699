"""A self-contained, canvas-based image map for the HTML report (no CDN, no library).

Points are drawn on a canvas (dots when zoomed out, thumbnails from one JPEG atlas when zoomed
in), hover uses a grid index, so the map stays fluid at 10,000+ images.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
from PIL import Image

ATLAS_COLUMNS = 100

SCRIPT = r"""
(function(){
const D = JSON.parse(document.getElementById('map-data').textContent);
const cv = document.getElementById('map'), ctx = cv.getContext('2d');
const tip = document.getElementById('map-tip'), tipc = document.getElementById('map-tipimg');
const atlas = new Image(); atlas.src = D.atlas; atlas.onload = draw;
const T = D.thumb, N = D.label.length, hidden = new Set();
let coords = D.maps[D.current];
let scale = 1, tx = 0, ty = 0, W = 0, H = 0, dpr = window.devicePixelRatio || 1;
function fit(){ W = cv.clientWidth; H = cv.clientHeight; cv.width = W*dpr; cv.height = H*dpr;
  scale = 1; tx = 0; ty = 0; buildGrid(); draw(); }
function sx(i){ return (coords.x[i]*0.9+0.05)*W*scale + tx; }
function sy(i){ return (coords.y[i]*0.9+0.05)*H*scale + ty; }
let grid = new Map(); const CELL = 0.02;
function buildGrid(){ grid = new Map(); for (let i=0;i<N;i++){
  const k = Math.floor(coords.x[i]/CELL)+','+Math.floor(coords.y[i]/CELL);
  if(!grid.has(k)) grid.set(k, []); grid.get(k).push(i); } }
function draw(){
  ctx.setTransform(dpr,0,0,dpr,0,0); ctx.clearRect(0,0,W,H);
  const side = Math.min(64, 14*Math.sqrt(scale));
  const thumbs = scale >= 3 && atlas.complete;
  let drawn = 0;
  for (let i=0;i<N;i++){
    if (hidden.has(D.label[i])) continue;
    const x = sx(i), y = sy(i);
    if (x < -side || y < -side || x > W+side || y > H+side) continue;
    ctx.fillStyle = D.colours[D.label[i]];
    if (thumbs && drawn < 3000){
      const a = D.atlasIndex[i], ax = (a % D.cols)*T, ay = Math.floor(a / D.cols)*T;
      ctx.fillRect(x-side/2-2, y-side/2-2, side+4, side+4);
      ctx.drawImage(atlas, ax, ay, T, T, x-side/2, y-side/2, side, side); drawn++;
    } else { ctx.fillRect(x-2, y-2, 4, 4); }
  }
}
function nearest(mx, my){
  const dx = ((mx - tx)/(W*scale) - 0.05)/0.9, dy = ((my - ty)/(H*scale) - 0.05)/0.9;
  const cx = Math.floor(dx/CELL), cy = Math.floor(dy/CELL);
  let best = -1, bd = 1e9;
  for (let a=-1;a<=1;a++) for (let b=-1;b<=1;b++){
    const list = grid.get((cx+a)+','+(cy+b)); if (!list) continue;
    for (const i of list){ if (hidden.has(D.label[i])) continue;
      const d = (sx(i)-mx)**2 + (sy(i)-my)**2; if (d < bd){ bd = d; best = i; } } }
  const reach = Math.max(8, 7*Math.sqrt(scale));
  return bd <= reach*reach ? best : -1;
}
let drag = null;
cv.addEventListener('mousedown', e => { drag = [e.offsetX - tx, e.offsetY - ty]; });
window.addEventListener('mouseup', () => { drag = null; });
cv.addEventListener('mousemove', e => {
  if (drag){ tx = e.offsetX - drag[0]; ty = e.offsetY - drag[1]; tip.style.display='none';
    draw(); return; }
  const i = nearest(e.offsetX, e.offsetY);
  if (i < 0){ tip.style.display = 'none'; return; }
  const a = D.atlasIndex[i], t = tipc.getContext('2d');
  t.clearRect(0,0,128,128);
  t.drawImage(atlas, (a % D.cols)*T, Math.floor(a / D.cols)*T, T, T, 0, 0, 128, 128);
  document.getElementById('map-tiptext').textContent = D.cultures[D.label[i]] + ' — ' + D.name[i];
  tip.style.display = 'block';
  tip.style.left = Math.min(e.offsetX + 14, W - 160) + 'px';
  tip.style.top = Math.min(e.offsetY + 14, H - 170) + 'px';
});
cv.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
cv.addEventListener('wheel', e => { e.preventDefault();
  const f = Math.exp(-e.deltaY * 0.0015), ns = Math.min(200, Math.max(0.5, scale*f));
  const k = ns / scale; tx = e.offsetX - (e.offsetX - tx)*k; ty = e.offsetY - (e.offsetY - ty)*k;
  scale = ns; draw(); }, {passive: false});
cv.addEventListener('dblclick', fit);
document.querySelectorAll('.map-legend span').forEach(el => el.addEventListener('click', () => {
  const c = +el.dataset.c; if (hidden.has(c)) hidden.delete(c); else hidden.add(c);
  el.style.opacity = hidden.has(c) ? 0.35 : 1; draw(); }));
document.querySelectorAll('.map-switch button').forEach(el => el.addEventListener('click', () => {
  coords = D.maps[el.dataset.m]; buildGrid(); fit(); }));
window.addEventListener('resize', fit); fit();
})();
"""


def atlas_data_uri(thumbs: np.ndarray, quality: int = 80) -> str:
    """All thumbnails in one JPEG grid, as a data URI the page decodes once."""
    n, side = len(thumbs), thumbs.shape[1]
    cols = min(ATLAS_COLUMNS, max(1, n))
    rows = (n + cols - 1) // cols
    sheet = np.zeros((rows * side, cols * side, 3), np.uint8)
    for i, thumb in enumerate(thumbs):
        r, c = divmod(i, cols)
        sheet[r * side : (r + 1) * side, c * side : (c + 1) * side] = thumb
    buffer = io.BytesIO()
    Image.fromarray(sheet).save(buffer, "JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _unit(coords: np.ndarray) -> dict[str, list[float]]:
    """Scale to [0, 1] with the same factor on both axes; y flipped so up is up."""
    lo = coords.min(0)
    span = float(np.ptp(coords, axis=0).max()) or 1.0
    unit = (coords - lo) / span
    unit[:, 1] = unit[:, 1].max() - unit[:, 1]
    return {"x": np.round(unit[:, 0], 4).tolist(), "y": np.round(unit[:, 1], 4).tolist()}


def map_html(
    maps: dict[str, np.ndarray],
    labels: np.ndarray,
    cultures: list[str],
    names: list[str],
    thumbs: np.ndarray,
    colours: list[str],
) -> str:
    """The map section: data island, canvas, legend, map switch and the script."""
    first = next(iter(maps))
    data = {
        "maps": {key: _unit(value) for key, value in maps.items()},
        "current": first,
        "label": labels.astype(int).tolist(),
        "name": names,
        "cultures": cultures,
        "colours": colours,
        "atlas": atlas_data_uri(thumbs),
        "atlasIndex": list(range(len(labels))),
        "cols": min(ATLAS_COLUMNS, max(1, len(labels))),
        "thumb": int(thumbs.shape[1]),
    }
    legend = "".join(
        f'<span data-c="{i}" style="border-left:12px solid {colours[i]}">{c}</span>'
        for i, c in enumerate(cultures)
    )
    switch = "".join(f'<button data-m="{k}">{k}</button>' for k in maps)
    payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return f"""
<div class="map-switch">map: {switch} <small>drag to pan, wheel to zoom (thumbnails appear
when zoomed in), hover for the image, double-click to reset, click a culture to hide it</small>
</div>
<div class="map-legend">{legend}</div>
<div class="map-wrap"><canvas id="map"></canvas>
<div id="map-tip"><canvas id="map-tipimg" width="128" height="128"></canvas>
<div id="map-tiptext"></div></div></div>
<script type="application/json" id="map-data">{payload}</script>
<script>{SCRIPT}</script>
"""


MAP_CSS = """
.map-wrap{position:relative;width:100%;height:640px;border:1px solid #ccc;background:#fafafa}
#map{width:100%;height:100%;cursor:grab}
#map-tip{position:absolute;display:none;background:#fff;border:1px solid #999;padding:4px;
  pointer-events:none;font-size:12px;max-width:150px;word-break:break-all}
.map-legend span{display:inline-block;margin:2px 10px 2px 0;padding-left:5px;cursor:pointer}
.map-switch button{margin-right:4px}
"""
