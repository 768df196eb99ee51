/// The pages' only script: the node detail pane, the pool filter, and on the status page
/// (`data-poll` on `<body>`) the refresh that polls `/status` and swaps in a new `#live` section
/// when what the page shows changes (a revision applied, attempted or refused, an error, drift),
/// without reloading. Everything is readable without it but the details.
enum PageScript {
    static let javascript = #"""
        (function () {
          "use strict";
          // The details table (NodeDetailsTable): shared strings once, one array per node.
          var table = { strings: [], nodes: [] }, byName = {};
          function readDetails(root) {
            var data = root.querySelector("#node-data");
            table = data ? JSON.parse(data.textContent) : { strings: [], nodes: [] };
            byName = {};
            table.nodes.forEach(function (row, i) { byName[row[0]] = i; });
          }
          function kW(watts) { return (watts / 1000).toFixed(1) + " kW"; }
          function detail(name) {
            var row = table.nodes[byName[name]], s = table.strings;
            if (!row) { return null; }
            return { name: row[0], state: s[row[1]], pool: s[row[2]], gpus: s[row[3]], power: kW(row[4][0]) + " of " + kW(row[4][1]) + " max",
                     replicas: row[5], labels: row[6].map(function (i) { return s[i]; }), drives: row[7].map(function (i) { return s[i]; }),
                     source: s[row[8]] + (row[9] ? ":" + row[9] : ""), change: s[row[10]] };
          }
          function row(dl, term, value) {
            var dt = document.createElement("dt"); dt.textContent = term; dl.appendChild(dt);
            var dd = document.createElement("dd");
            if (Array.isArray(value)) {
              if (value.length === 0) { dd.textContent = "none"; } else {
                var ul = document.createElement("ul");
                value.forEach(function (item) { var li = document.createElement("li"); li.textContent = item; ul.appendChild(li); });
                dd.appendChild(ul);
              }
            } else { dd.textContent = value; }
            dd.className = "d-" + term.toLowerCase();
            dl.appendChild(dd);
          }
          function show(button) {
            var node = detail(button.id.slice(5));
            if (!node) { return; }
            document.querySelectorAll(".node.selected").forEach(function (b) { b.classList.remove("selected"); });
            button.classList.add("selected");
            var pane = document.getElementById("detail");
            pane.textContent = "";
            var h = document.createElement("h3"); h.textContent = node.name; pane.appendChild(h);
            var dl = document.createElement("dl");
            row(dl, "State", node.state); row(dl, "Pool", node.pool); row(dl, "GPUs", node.gpus); row(dl, "Power", node.power);
            row(dl, "Replicas", node.replicas); row(dl, "Labels", node.labels); row(dl, "Drives", node.drives); row(dl, "Source", node.source);
            if (node.change) { row(dl, "Plan", node.change); }
            pane.appendChild(dl);
          }
          function filter() {
            var select = document.getElementById("pool-filter");
            var pool = select ? select.value : "";
            var wanted = table.strings.indexOf(pool);  // pools are interned strings of the table
            document.querySelectorAll("#map .node").forEach(function (b) {
              var row = table.nodes[byName[b.id.slice(5)]];
              b.classList.toggle("dim", pool !== "" && !(row && row[2] === wanted));
            });
          }
          function onNode(event) {
            var button = event.target.closest ? event.target.closest(".node") : null;
            if (button) { show(button); }
          }
          // Arrow keys move between the cells of a rack, so one Tab reaches the map.
          function onKey(event) {
            var button = event.target.closest ? event.target.closest(".node") : null;
            if (!button) { return; }
            var next = null;
            if (event.key === "ArrowRight" || event.key === "ArrowDown") { next = button.nextElementSibling; }
            if (event.key === "ArrowLeft" || event.key === "ArrowUp") { next = button.previousElementSibling; }
            if (next) { event.preventDefault(); next.focus(); }
          }
          document.addEventListener("click", onNode);
          document.addEventListener("focusin", onNode);
          document.addEventListener("keydown", onKey);
          document.addEventListener("change", function (event) { if (event.target.id === "pool-filter") { filter(); } });
          readDetails(document);

          var poll = Number(document.body.getAttribute("data-poll") || 0);
          if (!poll || !window.fetch) { return; }
          var seen = document.body.getAttribute("data-pass");
          function stamp(text) { var el = document.getElementById("checked-at"); if (el) { el.textContent = text; } }
          function refresh() {
            fetch("status", { cache: "no-store" }).then(function (r) { return r.json(); }).then(function (status) {
              stamp("checked " + new Date().toISOString().replace(/\.\d+Z$/, "Z"));
              // The same fields, in the same order, as serve's ServePage.changeKey.
              var pass = [status.lastAppliedRevision, status.lastAttemptedRevision, status.refusedRevision, status.lastError,
                          status.drift, status.lastAppliedTime].map(function (v) { return v || ""; }).join("|");
              if (pass === seen) { return null; }
              return fetch("./", { cache: "no-store" }).then(function (r) { return r.text(); }).then(function (html) {
                var next = new DOMParser().parseFromString(html, "text/html");
                var live = next.getElementById("live");
                if (!live) { return; }
                var selected = document.querySelector(".node.selected");
                var selectedId = selected ? selected.id : null;
                var focusedId = document.activeElement && document.activeElement.id;
                document.getElementById("live").replaceWith(document.importNode(live, true));
                if (focusedId && document.getElementById(focusedId)) { document.getElementById(focusedId).focus(); }
                seen = next.body.getAttribute("data-pass");
                readDetails(document);
                filter();
                if (selectedId && document.getElementById(selectedId)) { show(document.getElementById(selectedId)); }
              });
            }).catch(function () { stamp("cannot reach the daemon; retrying"); })
              .then(function () { setTimeout(refresh, poll * 1000); });
          }
          setTimeout(refresh, poll * 1000);
        })();
        """#
}
