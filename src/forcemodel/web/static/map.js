// Pans and zooms the scenario map: drag or arrow keys to pan, wheel or + / - to zoom, buttons
// for both. Draws units with APP-6 symbols when the milsymbol library is present (vendored by
// `make`, see docs/web.md).
//
// Why a CSS transform first and the viewBox later: changing the SVG's viewBox makes the browser
// paint every node and link again, and a large network (thousands of links) takes far longer
// than a frame to paint. While the user pans or zooms, the SVG already painted is moved and
// scaled as a picture (a CSS transform: the compositor's work, no repaint); once the view has
// rested for COMMIT_MS, the viewBox takes the new view and the transform goes (one repaint,
// sharp again). window.forcemodelMap.pan / .zoom do the same from a script (the benchmark).
(function () {
  "use strict";
  var svg = document.getElementById("map");
  if (!svg) { return; }
  var COMMIT_MS = 200;
  // The element moved: the SVG's wrapper (a change of the SVG's own style would make the
  // browser look at every element inside it again).
  var mover = svg.parentNode.classList.contains("map-move") ? svg.parentNode : svg;
  var W = parseFloat(svg.getAttribute("data-width"));
  var H = parseFloat(svg.getAttribute("data-height"));
  var view = { x: 0, y: 0, w: W, h: H };   // what the user asked to see
  var shown = { x: 0, y: 0, w: W, h: H };  // what the viewBox draws
  var moved = { tx: 0, ty: 0, k: 1 };      // the transform now applied
  var pending = false, timer = null;

  // Pixels per map unit of the drawn viewBox, and the letterbox offsets (preserveAspectRatio
  // "xMidYMid meet"), from the element's own box (clientWidth ignores transforms). Measured
  // when the viewBox changes or the window is resized, never per frame: reading the layout in
  // every frame would make the browser lay the page out again.
  var geometry = null;
  function box() {
    if (geometry === null) {
      var cw = svg.clientWidth, ch = svg.clientHeight;
      var px = Math.min(cw / shown.w, ch / shown.h);
      geometry = { px: px, ox: (cw - shown.w * px) / 2, oy: (ch - shown.h * px) / 2 };
    }
    return geometry;
  }
  window.addEventListener("resize", function () { geometry = null; });
  function frame() {
    pending = false;
    var b = box(), k = shown.w / view.w;
    moved = { k: k, tx: b.ox * (1 - k) + k * b.px * (shown.x - view.x),
              ty: b.oy * (1 - k) + k * b.px * (shown.y - view.y) };
    // Whole pixels: a layer moved by a fraction of a pixel is painted again (to stay sharp),
    // which is the cost this avoids.
    moved.tx = Math.round(moved.tx); moved.ty = Math.round(moved.ty);
    mover.style.transform = "translate(" + moved.tx + "px," + moved.ty + "px) scale(" + k + ")";
  }
  function commit() {
    timer = null;
    shown = { x: view.x, y: view.y, w: view.w, h: view.h };
    svg.setAttribute("viewBox", view.x + " " + view.y + " " + view.w + " " + view.h);
    mover.style.transform = "";
    moved = { tx: 0, ty: 0, k: 1 };
    geometry = null;
  }
  function apply() {
    if (!pending) { pending = true; window.requestAnimationFrame(frame); }
    if (timer !== null) { window.clearTimeout(timer); }
    timer = window.setTimeout(commit, COMMIT_MS);
  }
  function zoom(factor, cx, cy) {
    if (cx === undefined) { cx = view.x + view.w / 2; cy = view.y + view.h / 2; }
    var w = Math.min(Math.max(view.w * factor, W / 50), W * 2);
    var h = w * H / W;
    view.x = cx - (cx - view.x) * (w / view.w);
    view.y = cy - (cy - view.y) * (h / view.h);
    view.w = w; view.h = h;
    apply();
  }
  function pan(dx, dy) { view.x += dx * view.w; view.y += dy * view.h; apply(); }
  // Map units per screen pixel in the current view.
  function unit() { return 1 / (box().px * (shown.w / view.w)); }
  function point(event) {
    var r = svg.getBoundingClientRect(), b = box(), u = unit();
    var left = r.left - moved.tx, top = r.top - moved.ty;  // the untransformed box
    return { x: view.x + (event.clientX - left - b.ox) * u,
             y: view.y + (event.clientY - top - b.oy) * u };
  }
  var drag = null;
  svg.addEventListener("pointerdown", function (e) {
    drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y, u: unit() };
    try { svg.setPointerCapture(e.pointerId); } catch (err) { /* a synthetic pointer */ }
  });
  svg.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    view.x = drag.vx - (e.clientX - drag.x) * drag.u;
    view.y = drag.vy - (e.clientY - drag.y) * drag.u;
    apply();
  });
  svg.addEventListener("pointerup", function () { drag = null; });
  svg.addEventListener("wheel", function (e) {
    e.preventDefault();
    var p = point(e);
    zoom(e.deltaY > 0 ? 1.2 : 1 / 1.2, p.x, p.y);
  }, { passive: false });
  svg.addEventListener("keydown", function (e) {
    var step = 0.1;
    var keys = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (keys[e.key]) { pan(keys[e.key][0], keys[e.key][1]); e.preventDefault(); }
    else if (e.key === "+" || e.key === "=") { zoom(1 / 1.25); e.preventDefault(); }
    else if (e.key === "-") { zoom(1.25); e.preventDefault(); }
  });
  document.querySelectorAll("[data-map]").forEach(function (button) {
    button.addEventListener("click", function () {
      var what = button.getAttribute("data-map");
      if (what === "in") { zoom(1 / 1.25); }
      else if (what === "out") { zoom(1.25); }
      else { view = { x: 0, y: 0, w: W, h: H }; apply(); }
    });
  });
  window.forcemodelMap = {
    pan: pan,
    zoom: function (factor) { zoom(factor); },
    view: function () { return { x: view.x, y: view.y, w: view.w, h: view.h }; },
    settled: function () { return timer === null && !pending; }
  };
  // APP-6 unit symbols (friendly land unit) when milsymbol is vendored.
  if (window.ms && window.ms.Symbol) {
    var NS = "http://www.w3.org/2000/svg";
    svg.querySelectorAll("g.unit").forEach(function (g) {
      var sym = new window.ms.Symbol("SFGPU-------", { size: 14 });
      var img = document.createElementNS(NS, "image");
      var size = sym.getSize();
      img.setAttribute("href", sym.asCanvas().toDataURL());
      img.setAttribute("width", size.width);
      img.setAttribute("height", size.height);
      img.setAttribute("x", parseFloat(g.getAttribute("data-x")) - size.width / 2);
      img.setAttribute("y", parseFloat(g.getAttribute("data-y")) - size.height - 3);
      var rect = g.querySelector("rect");
      if (rect) { rect.setAttribute("opacity", "0"); }
      g.appendChild(img);
    });
  }
})();
