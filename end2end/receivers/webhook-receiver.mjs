// A webhook receiver for the tests: verifies every delivery with the
// `standardwebhooks` library (not Clearance's own code), honours the
// idempotency key (`webhook-id`: a message seen before is acknowledged and not
// counted again), and records what it accepted.
//
//   node webhook-receiver.mjs PORT SECRET[,SECRET...] OUT_FILE [--fail-first N]
//
// Each accepted delivery is appended to OUT_FILE as one JSON line:
// {"id", "type", "payload", "duplicate"}. A delivery whose signature does not
// verify is answered 401 and recorded with "rejected": true.
import http from 'node:http';
import { appendFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';

const [port, secrets, out, ...rest] = process.argv.slice(2);
const failFirst = rest[0] === '--fail-first' ? Number(rest[1]) : 0;
const verifiers = secrets.split(',').map((secret) => new Webhook(secret));
const seen = new Set();
let refused = 0;

function verify(body, headers) {
  for (const verifier of verifiers) {
    try {
      return verifier.verify(body, headers);
    } catch (error) {
      // try the next secret
    }
  }
  return null;
}

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = {
      'webhook-id': request.headers['webhook-id'],
      'webhook-timestamp': request.headers['webhook-timestamp'],
      'webhook-signature': request.headers['webhook-signature'],
    };
    const payload = verify(body, headers);
    if (payload === null) {
      appendFileSync(out, JSON.stringify({ rejected: true, headers }) + '\n');
      response.writeHead(401).end('signature does not verify');
      return;
    }
    if (refused < failFirst) {
      refused += 1;
      response.writeHead(503).end('not yet');
      return;
    }
    const id = headers['webhook-id'];
    const duplicate = seen.has(id);
    seen.add(id);
    appendFileSync(
      out,
      JSON.stringify({
        id,
        idempotencyKey: request.headers['idempotency-key'],
        type: payload.type,
        payload,
        duplicate,
      }) + '\n',
    );
    response.writeHead(204).end();
  });
});

server.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening on ${port}`);
});
