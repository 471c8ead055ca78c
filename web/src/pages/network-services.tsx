// Network Services: the cell's DNS records, its DNS blocklists, its time service and its dynamic DNS,
// one card each (other services add their own card here).
import { BlocklistsCard } from './blocklists-card';
import { DdnsSettingsCard } from './ddns-settings-card';
import { DnsRecordsCard } from './dns-records-card';
import { NtpStatusCard } from './ntp-status-card';

export function NetworkServicesPage() {
  return (
    <div className="space-y-6">
      <h1 className="text-2xl font-bold">Network Services</h1>
      <DnsRecordsCard />
      <BlocklistsCard />
      <NtpStatusCard />
      <DdnsSettingsCard />
    </div>
  );
}
