// The entry point the shell loads. Top of the import graph: app.js -> router.js and the pages ->
// api.js, ui.js; nothing imports app.js, and no page imports another page or is imported by the
// router, so there is no cycle (bin/lint-ui checks it).
import { start } from "./router.js";

document.querySelector("header .menu").addEventListener("click", (event) => {
  const open = document.querySelector("header nav").classList.toggle("open");
  event.currentTarget.setAttribute("aria-expanded", String(open));
});
// Each page module is loaded the first time one of its routes is shown.
start((page) => import(`./pages/${page}.js`));
