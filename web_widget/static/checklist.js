/* The checklist page's print button (the page itself needs no JavaScript). */
document.getElementById("print").addEventListener("click", function () { window.print(); });
if (new URLSearchParams(location.search).has("print")) window.print();
