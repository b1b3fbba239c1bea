// Starts Swagger UI on /openapi.json. A file of its own, not an inline script: the app's CSP runs
// scripts from this server only.
window.ui = window.SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  // Tags start folded: with every tag open at once (~140 operations) Swagger UI stops drawing
  // after the first dozen operations, with no error; a tag opened on demand draws in full.
  docExpansion: "none",
  defaultModelsExpandDepth: 0,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
