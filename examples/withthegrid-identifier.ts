/**
 * Withthegrid webhook identifier function for ngx_kpn_module's envelope
 * (kpn_uplink_format envelope, the default).
 *
 * nginx has already checked the KPN Things message token, validated the
 * SenML pack, identified the device and mapped its device-type header to
 * a Withthegrid device type, so the body Withthegrid receives is
 *
 *   {"deviceTypeHashId":"wasd2","deviceIdentifier":"0059AC00001B3461",
 *    "kpn":{...},"records":[...]}
 *
 * and identification is two lines.  Withthegrid answers 502 when this
 * function throws, and 404 for an unknown device type.
 */
function handle(args: Arguments): Result {
  const { deviceTypeHashId, deviceIdentifier } = (args.request.body as { type: 'json'; data: any }).data;
  return { deviceTypeHashId, deviceIdentifier };
}
