document.documentElement.className += " js";
function copyText(t, b) {
  var done = function () { b.classList.add("done"); b.textContent = "✅ " + b.getAttribute("data-done"); };
  var old = function () {
    var a = document.createElement("textarea"); a.value = t; a.setAttribute("readonly", ""); a.className = "offscreen";
    document.body.appendChild(a); a.select(); try { if (document.execCommand("copy")) done(); } finally { a.remove(); }
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(t).then(done, old); else old();
}
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-copy]");
  if (b) { copyText(b.getAttribute("data-copy"), b); return; }
  b = e.target.closest("[data-share]");
  if (b) {
    var url = location.origin + b.getAttribute("data-share");
    if (navigator.share) navigator.share({title: b.getAttribute("data-title"), url: url}).catch(function () {});
    else copyText(url, b);
    return;
  }
  if (e.target.closest(".print-now")) window.print();
});
document.querySelectorAll("[data-share],.print-now").forEach(function (b) { b.hidden = false; });
var list = document.querySelector("form.checklist");
if (list && window.fetch) list.addEventListener("change", function (e) {
  var box = e.target; if (box.type !== "checkbox") return;
  var topic = list.getAttribute("data-topic"), on = box.checked ? "1" : "0";
  var na = box.value.indexOf("na:") === 0, action = na ? "na" : "tick", item = na ? box.value.slice(3) : box.value;
  var body = new URLSearchParams({d: "e1|" + action + "|" + topic + ":" + item + ":" + on, _xsrf: list.querySelector("[name=_xsrf]").value});
  fetch("/a", {method: "POST", body: body, headers: {"Accept": "application/json"}, credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.json() : {stale: true}; })
    .then(function (p) {
      if (p.stale) { list.submit(); return; }
      document.querySelectorAll("[name=_xsrf]").forEach(function (x) { x.value = p.xsrf; });
      document.querySelector("[data-done]").textContent = p.done;
      document.querySelector("[data-total]").textContent = p.total;
      var bar = document.querySelector(".progress progress"); bar.max = p.total || 1; bar.value = p.done;
      document.querySelector("[data-na]").textContent = p.na ? "（" + p.na + "）" : "";
      Object.keys(p.groups).forEach(function (m) {
        var f = document.getElementById("m-" + m); if (f) f.querySelector("[data-count]").textContent = p.groups[m];
      });
      if (na) box.closest(".item").classList.toggle("na", box.checked);
    }, function () { list.submit(); });
});
