// Starts Swagger UI on /docs from this site's own copy (no CDN, no inline script).
window.addEventListener("load", function () {
  window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
