// The report's one behaviour: show only the failed and flaky tests of a run's matrix.
document.querySelectorAll("input.only-bad").forEach(function (box) {
  box.addEventListener("change", function () {
    var table = box.closest("section").querySelector("table.matrix");
    table.classList.toggle("only-bad", box.checked);
  });
});
