// Starts Swagger UI from a file of ours, not an inline script: the pages' CSP allows no inline script.
window.addEventListener("load", () => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.openapi, dom_id: "#swagger-ui" });
});
