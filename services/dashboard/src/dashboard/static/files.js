// Shows the chosen file's name beside a file picker whose native button is hidden.
(function () {
  "use strict";
  document.querySelectorAll(".file-picker").forEach(function (picker) {
    var input = picker.querySelector("input[type=file]");
    var name = picker.querySelector(".file-name");
    input.addEventListener("change", function () {
      name.textContent = input.files && input.files.length ? input.files[0].name : name.getAttribute("data-none");
    });
  });
})();
