// A real SMTP server for the tests and for trying e-mail locally: accepts
// every mail, parses it with mailparser and appends it as one JSON line
// ({to, from, subject, text, html, headers}) to the file given as the first
// argument. Prints {"port": N} on stdout once listening.
//
//   node end2end/receivers/smtp-sink.mjs mails.jsonl [--port 2525]
//
// With SMTP_SINK_USER and SMTP_SINK_PASSWORD set, AUTH PLAIN/LOGIN with
// exactly those is required (over plain TCP: this is a local test server).
import { appendFileSync } from "node:fs";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";

const file = process.argv[2];
if (!file) {
  console.error("usage: smtp-sink.mjs OUTPUT.jsonl [--port N]");
  process.exit(2);
}
const portAt = process.argv.indexOf("--port");
const port = portAt > 0 ? Number(process.argv[portAt + 1]) : 0;
const user = process.env.SMTP_SINK_USER;
const password = process.env.SMTP_SINK_PASSWORD;

const server = new SMTPServer({
  secure: false,
  disabledCommands: ["STARTTLS"],
  authOptional: !user,
  allowInsecureAuth: true,
  authMethods: ["PLAIN", "LOGIN"],
  logger: false,
  onAuth(auth, _session, callback) {
    if (user && auth.username === user && auth.password === password) {
      callback(null, { user: auth.username });
    } else {
      callback(new Error("Invalid username or password"));
    }
  },
  onData(stream, session, callback) {
    simpleParser(stream)
      .then((mail) => {
        const headers = {};
        for (const line of mail.headerLines) {
          headers[line.key] = line.line.slice(line.line.indexOf(":") + 1).trim();
        }
        appendFileSync(
          file,
          JSON.stringify({
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            from: session.envelope.mailFrom && session.envelope.mailFrom.address,
            authenticated_as: session.user || null,
            subject: mail.subject,
            text: mail.text,
            html: mail.html || null,
            headers,
          }) + "\n",
        );
        callback();
      })
      .catch(callback);
  },
});

server.listen(port, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.server.address().port }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
