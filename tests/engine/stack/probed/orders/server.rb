# The orders service's health, on Ruby's own sockets: /healthz answers 200, /broken 500 (the variant that
# must turn unhealthy).
require "socket"

server = TCPServer.new("0.0.0.0", 4567)
loop do
  client = server.accept
  request = client.gets.to_s
  path = request.split(" ")[1].to_s
  while (line = client.gets) && line != "\r\n"; end
  status = path == "/broken" ? "500 Internal Server Error" : "200 OK"
  body = path == "/broken" ? "broken\n" : "ok\n"
  client.write("HTTP/1.1 #{status}\r\nContent-Type: text/plain\r\nContent-Length: #{body.bytesize}\r\nConnection: close\r\n\r\n#{body}")
  client.close
end
