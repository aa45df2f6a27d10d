/*
 * Withthegrid device-type event handler: send a command to the device
 * through nginx's kpn_downlink endpoint.  nginx holds the KPN credentials,
 * caches the access token and talks to KPN Things; this handler only knows
 * the endpoint and its downlink key.
 *
 * The endpoint answers KPN's own status and body on success, and
 * {"error": "<code>", "message": "<text>"} otherwise (docs/downlink.md).
 */

const DOWNLINK_URL = 'https://edge.example.com/kpn/downlink';
const DOWNLINK_KEY = 'replace-with-a-line-of-downlink.keys';

/* Dragino LDS01/LDS02: FPort 10, payload as hex */
const COMMAND_PORT = 10;

interface Args {
  device: { id: string; hashId: string; fields: Record<string, unknown> };
  trigger: { type: string; command?: { hashId: string; fields: Record<string, unknown> } };
}

interface Exec {
  sendRequest(req: {
    url: string;
    method: 'get' | 'post';
    headers?: Record<string, string>;
    body?: { type: 'json'; data: unknown };
  }): Promise<{ statusCode: number; body?: unknown }>;
  addLog(message: string): void;
}

export async function handle(args: Args, exec: Exec): Promise<void> {
  if (args.trigger.type !== 'command' || args.trigger.command === undefined) {
    return;
  }

  const devEUI = String(args.device.fields.devEUI ?? '').toUpperCase();
  const payload = String(args.trigger.command.fields.payloadHex ?? '');

  const response = await exec.sendRequest({
    url: DOWNLINK_URL,
    method: 'post',
    headers: { Authorization: `Bearer ${DOWNLINK_KEY}` },
    body: {
      type: 'json',
      data: {
        devEUI,
        port: COMMAND_PORT,
        payload,
        externalReference: args.trigger.command.hashId,
      },
    },
  });

  if (response.statusCode >= 200 && response.statusCode < 300) {
    exec.addLog(`downlink queued for ${devEUI}`);
    return;
  }

  /* 503 token_unavailable carries Retry-After: a later command may succeed */
  exec.addLog(`downlink for ${devEUI} failed: ${response.statusCode} ${JSON.stringify(response.body)}`);
  throw new Error(`downlink failed with status ${response.statusCode}`);
}
