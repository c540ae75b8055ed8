// Pans and zooms the scenario map by changing the SVG's viewBox (no redraw of its elements):
// drag or arrow keys to pan, wheel or + / - to zoom, buttons for both. Draws units with APP-6
// symbols when the milsymbol library is present (vendored by `make`, see docs/web.md).
(function () {
  "use strict";
  var svg = document.getElementById("map");
  if (!svg) { return; }
  var W = parseFloat(svg.getAttribute("data-width"));
  var H = parseFloat(svg.getAttribute("data-height"));
  var view = { x: 0, y: 0, w: W, h: H };
  var pending = false;
  function apply() {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      svg.setAttribute("viewBox", view.x + " " + view.y + " " + view.w + " " + view.h);
    });
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
  function point(event) {
    var r = svg.getBoundingClientRect();
    return { x: view.x + (event.clientX - r.left) / r.width * view.w,
             y: view.y + (event.clientY - r.top) / r.height * view.h };
  }
  var drag = null;
  svg.addEventListener("pointerdown", function (e) {
    drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
    svg.setPointerCapture(e.pointerId);
  });
  svg.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    var r = svg.getBoundingClientRect();
    view.x = drag.vx - (e.clientX - drag.x) / r.width * view.w;
    view.y = drag.vy - (e.clientY - drag.y) / r.height * view.h;
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
