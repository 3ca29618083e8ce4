/* The main navigation folds behind a "Menu" button on narrow screens.
   Without this script the button stays hidden and the navigation is shown in full, wrapping. */
(function () {
  "use strict";

  function setUp() {
    var button = document.getElementById("nav-toggle");
    var nav = document.getElementById("mainnav");
    if (!button || !nav) {
      return;
    }
    function show(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("is-open", open);
    }
    show(false);
    button.hidden = false;
    document.documentElement.classList.add("nav-folds");
    button.addEventListener("click", function () {
      show(button.getAttribute("aria-expanded") !== "true");
    });
    nav.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        show(false);
        button.focus();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
