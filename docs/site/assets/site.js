// recipe's lab site: the theme button, and the lab's cast in the bundled asciinema-player with
// its steps as chapters. Everything it needs is in the page or beside it: nothing is fetched.
"use strict";

(function theme() {
  const button = document.getElementById("theme");
  if (!button) return;
  const root = document.documentElement;
  const dark = () => root.dataset.theme === "dark" ||
    (!root.dataset.theme && matchMedia("(prefers-color-scheme: dark)").matches);
  const label = () => { button.textContent = dark() ? "Light theme" : "Dark theme"; };
  try {
    const saved = localStorage.getItem("recipe-theme");
    if (saved === "dark" || saved === "light") root.dataset.theme = saved;
  } catch (e) { /* storage may be off for file:// pages; the system's choice stands */ }
  button.hidden = false;
  label();
  button.addEventListener("click", () => {
    root.dataset.theme = dark() ? "light" : "dark";
    try { localStorage.setItem("recipe-theme", root.dataset.theme); } catch (e) { /* as above */ }
    label();
  });
})();

(function player() {
  const holder = document.getElementById("player");
  const data = document.getElementById("cast-data");
  if (!holder || !data || typeof AsciinemaPlayer === "undefined") return;
  const cast = JSON.parse(data.textContent);
  const speed = Number(new URLSearchParams(location.search).get("speed")) || 1;
  const player = AsciinemaPlayer.create({ data: cast }, holder, {
    fit: "width", idleTimeLimit: 2, speed: speed, autoPlay: speed > 1,
    terminalFontSize: "small", poster: "npt:0:3",  // the first steps, before it plays
  });
  window.recipePlayer = player;  // for the browser test, and for a reader's console
  player.addEventListener("ended", () => { document.body.dataset.castEnded = "true"; });
  for (const button of document.querySelectorAll("ol.chapters button[data-marker]")) {
    button.addEventListener("click", () => {
      player.seek({ marker: Number(button.dataset.marker) }).then(() => player.play());
    });
  }
})();
