// NTP status from chronyd in cell-ntp. Admin only, like the other service status routes: it names
// the upstream servers from the configuration (LAN addresses), which peers cannot read either, and
// each call runs a process in a container.
import { ntpStatus } from '../../schema/ntp.ts';
import { ADMIN, defineRoute } from '../route.ts';

export const ntpRoutes = [
  defineRoute({
    method: 'GET',
    url: '/api/ntp/status',
    access: ADMIN,
    tag: 'ntp',
    summary:
      "chronyd's tracking and sources: synchronised, offset (positive = this clock is ahead), stratum, each source's state, poll, reach and last sample; running=false when cell-ntp does not answer",
    response: ntpStatus,
    handler: ({ deps }) => deps.ntp.status(),
  }),
];
