// client/node/methods.js: the protocol's methods (docs/protocol.md §5), one
// line each. The client's methods (client.invite.send(...), ...) and the
// types in index.d.ts (`npm run types`, tools/gen-types.js) are made from
// this table, so a method the daemon gains is one line here:
//
//   'NAME': { write: BOOL, args: 'ARG[*][:TYPE] ...', result: 'TYPE' },
//
// `*` marks a required argument; TYPE is a TypeScript type (default
// `string`); `result` names a type of index.d.ts (default `Result`, a map);
// `write: true` for a method that changes the store (retried with a
// request_id, see index.js, only when the server advertises it).

export const METHODS = {
  'hello':               { args: '', result: 'Hello' },
  'invite.send':         { write: true, args: 'from* to* note priority:Priority email expires_in:number', result: 'SendResult' },
  'invite.accept':       { write: true, args: 'actor* id*:number', result: 'AcceptResult' },
  'invite.ignore':       { write: true, args: 'actor* id*:number', result: 'InvitationResult' },
  'invite.unignore':     { write: true, args: 'actor* id*:number', result: 'InvitationResult' },
  'invite.withdraw':     { write: true, args: 'actor* id*:number', result: 'WithdrawResult' },
  'invite.resend':       { write: true, args: 'actor* id*:number note email expires_in:number', result: 'SendResult' },
  'invite.get':          { args: 'id*:number actor', result: 'InvitationResult' },
  'invite.list':         { args: 'member* box*:Box state:State priority:Priority older_than:number limit:number after:number', result: 'Page<Invitation>' },
  'invite.history':      { args: 'a* b*', result: 'Items<Invitation>' },
  'connection.list':     { args: 'member* limit:number after', result: 'Page<Connection>' },
  'connection.remove':   { write: true, args: 'actor* other*', result: 'RemoveResult' },
  'connection.mutual':   { args: 'a* b* limit:number after', result: 'Page<Result>' },
  'invite.can_send':     { args: 'from* to* email', result: 'CanSendResult' },
  'invite.report':       { write: true, args: 'actor* id*:number reason*', result: 'InvitationResult' },
  'member.settings.set': { write: true, args: 'member* invitations_from email auto_accept_min_mutual:number auto_accept_until:number hold_no_mutual:boolean hold_low_health:boolean hold_restricted_days:number hold_new_member_days:number digest_every:number', result: 'Settings' },
  'member.settings.get': { args: 'member*', result: 'Settings' },
  'member.auto_accept.add':    { write: true, args: 'member* other*' },
  'member.auto_accept.remove': { write: true, args: 'member* other*' },
  'member.auto_accept.list':   { args: 'member* limit:number after' },
  'member.block':        { write: true, args: 'actor* other*', result: 'BlockResult' },
  'member.unblock':      { write: true, args: 'actor* other*', result: 'BlockResult' },
  'stats.get':           { args: 'member* window:number' },
  'invite.advise':       { args: 'member*', result: 'Items<Result>' },
  'plan.withdraw_stale': { write: true, args: 'member* older_than:number per_day:number max_priority:Priority', result: 'PlanResult' },
  'plan.list':           { args: 'member*', result: 'Items<Plan>' },
  'plan.cancel':         { write: true, args: 'actor* id*:number', result: 'PlanResult' },
  'server.info':         { args: '', result: 'ServerInfo' },
  'clock.advance':       { write: true, args: 'seconds*:number', result: 'ClockResult' },
  'events.subscribe':    { args: 'member all:boolean after:number', result: 'HeadResult' },
  'events.read':         { args: 'member all:boolean after*:number limit:number', result: 'EventsPage' },
  'events.unsubscribe':  { args: '', result: 'Result' },
  'intro.ask':           { write: true, args: 'from* via* to* note' },
  'intro.forward':       { write: true, args: 'actor* id*:number note' },
  'intro.decline':       { write: true, args: 'actor* id*:number tell_sender:boolean' },
  'intro.get':           { args: 'actor* id*:number' },
  'intro.list':          { args: 'member* box* limit:number after:number' },
  'store.backup':        { args: 'path*' },
  'server.metrics':      { args: '' },
  'member.export':       { args: 'member*' },
  'member.erase':        { write: true, args: 'member*' },
  'import.rows':         { write: true, args: 'rows*:object[]' },
};

// parseArgs('from* to* expires_in:number') -> [{name, required, type}]
export function parseArgs(spec) {
  return spec.split(/\s+/).filter(Boolean).map((word) => {
    const [head, type = 'string'] = word.split(':');
    const required = head.endsWith('*');
    return { name: required ? head.slice(0, -1) : head, required, type };
  });
}
