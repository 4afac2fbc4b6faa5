document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-copy]"); if (!b) return;
  var t = b.getAttribute("data-copy");
  var done = function () { b.classList.add("done"); b.textContent = "✅ " + b.getAttribute("data-done"); };
  var old = function () {
    var a = document.createElement("textarea"); a.value = t; a.setAttribute("readonly", ""); a.className = "offscreen";
    document.body.appendChild(a); a.select(); try { if (document.execCommand("copy")) done(); } finally { a.remove(); }
  };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(t).then(done, old); else old();
});
