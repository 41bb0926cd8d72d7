// The front end's health: /healthz answers 200, /broken 500 (the variant that must turn
// unhealthy), anything else a page.
const http = require("http");
http
  .createServer((req, res) => {
    const status = req.url === "/healthz" ? 200 : req.url === "/broken" ? 500 : 200;
    res.writeHead(status, { "content-type": "text/plain" });
    res.end(status === 200 ? "ok\n" : "broken\n");
  })
  .listen(3000, "0.0.0.0");
