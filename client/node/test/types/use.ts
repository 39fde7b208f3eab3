// client/node/test/types/use.ts: index.d.ts in use, checked by tsc
// --noEmit --strict (test/types.test.js); never run. @ts-expect-error
// lines must fail to compile: the types refuse what the daemon would.
import { connect, Client, ConnreqError, ConnectionError, Subscription, type Invitation, type ConnreqEvent } from 'connreq';

export async function use(): Promise<void> {
  const c: Client = await connect({ socket: '/tmp/x.sock', retries: 1, requestIds: 'auto' });
  const r = await c.invite.send({ from: 'a', to: 'b', note: 'hi', priority: 'high', expires_in: 86400 });
  const inv: Invitation = r.invitation;
  const warned: number = r.warnings?.length ?? 0;
  const page = await c.invite.list({ member: 'b', box: 'received', limit: 10 });
  const next: number | null = page.next;
  const first: Invitation | undefined = page.items[0];
  const s = await c.member.settings.set({ member: 'a', invitations_from: 'everyone' });
  const email: string | null = s.email;
  const info = await c.server.info();
  const head: number = info.events.head;
  const { now } = await c.clock.advance({ seconds: 60 });
  const any = await c.call('connection.mutual', { a: 'a', b: 'b' });
  for await (const ev of c.subscribe({ member: 'b' }, { backoff: { initial: 10, max: 100 } })) {
    const seq: number = ev.seq;
    const state = ev.invitation?.state;
    void seq; void state;
    break;
  }
  const sub = new Subscription({ socket: '/tmp/x.sock', all: true, after: 0 });
  const cursor: number | null = sub.cursor;
  c.on('event', (ev: ConnreqEvent) => void ev.type);
  try {
    await c.invite.get({ id: 1, actor: 'a' });
  } catch (e) {
    if (e instanceof ConnreqError) { const at: number | null = e.retryAt; const code: string = e.code; void at; void code; }
    if (e instanceof ConnectionError) { const unknown: boolean = e.outcomeUnknown; void unknown; }
  }
  // @ts-expect-error id is required
  await c.invite.accept({ actor: 'b' });
  // @ts-expect-error id is a number
  await c.invite.get({ id: '1' });
  // @ts-expect-error no such priority
  await c.invite.send({ from: 'a', to: 'b', priority: 'urgent' });
  // @ts-expect-error no such argument
  await c.invite.send({ from: 'a', to: 'b', bogus: 1 });
  void inv; void warned; void next; void first; void email; void head; void now; void any; void cursor;
  await c.close();
}
