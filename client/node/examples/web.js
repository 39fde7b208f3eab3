// A web page on node's own http module: it sends an invitation (a form)
// and shows the member's received box. In client/node, `npm ci` (once:
// the dependency) and `node examples/web.js`, then open
// http://127.0.0.1:8080/?me=bob. In a real app the session says who `me`
// is; here the query string does.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { connect, ConnreqError } from 'connreq';

const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

async function formBody(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 8192) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

export async function makeServer(options = {}) {
  // One client for the whole server: concurrent requests share its
  // connection, their calls pipelined.
  const client = await connect(options);
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const me = url.searchParams.get('me') || 'alice';
    let notice = '';
    try {
      if (req.method === 'POST') {
        const form = await formBody(req);
        try {
          const { invitation } = await client.invite.send({
            from: me, to: form.get('to') ?? '', note: form.get('note') ?? '',
          });
          notice = `Invitation ${invitation.id} sent to ${invitation.to}.`;
        } catch (e) {
          if (!(e instanceof ConnreqError)) throw e;
          // code says which rule refused; retryAt when waiting helps.
          notice = e.retryAt ? `${e.detail} (from ${e.retryDate.toISOString()})` : e.detail;
        }
      }
      const box = await client.invite.list({ member: me, box: 'received' });
      const rows = box.items.map((i) =>
        `<li>#${i.id} from ${esc(i.from)}${i.note ? `: ${esc(i.note)}` : ''}</li>`).join('');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Invitations</title>
<p>${esc(notice)}</p>
<form method="post"><input name="to" placeholder="member"> <input name="note" placeholder="note">
<button>Invite</button></form>
<h2>Received (${box.items.length})</h2><ul>${rows}</ul>\n`);
    } catch (e) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end(`connreqd: ${e.message}\n`);
    }
  });
  server.on('close', () => client.close());
  return server;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await makeServer(); // the socket: as connreq finds it
  server.listen(8080, '127.0.0.1', () => console.log('http://127.0.0.1:8080/?me=bob'));
}
