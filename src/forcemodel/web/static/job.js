// Follows a run's progress through its server-sent events; reloads the page when it ends,
// so that the results (rendered by the server) appear. Without JavaScript the page still works:
// reload it.
(function () {
  "use strict";
  var section = document.getElementById("progress");
  if (!section || !window.EventSource) { return; }
  var bar = document.getElementById("bar");
  var state = document.getElementById("state");
  var list = document.getElementById("messages");
  var source = new EventSource(section.getAttribute("data-events"));
  source.addEventListener("progress", function (event) {
    var data = JSON.parse(event.data);
    bar.value = data.fraction;
    bar.textContent = Math.round(100 * data.fraction) + " %";
    state.textContent = data.state;
    state.className = "state state-" + data.state;
    section.setAttribute("data-state", data.state);
    while (list.children.length < data.messages.length) {
      var item = document.createElement("li");
      item.textContent = data.messages[list.children.length];
      list.appendChild(item);
    }
  });
  source.addEventListener("end", function () {
    source.close();
    window.location.reload();
  });
})();
