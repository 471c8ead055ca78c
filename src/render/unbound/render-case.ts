// The golden cases of this directory hold inputs of three renderers; this picks the one an input is
// for (used by the golden test and by the unbound-checkconf integration test).
import { type CellZoneInput, renderCellZone } from './cell-zone.ts';
import { type ControlInterfacesInput, renderControlInterfaces } from './control-interfaces.ts';
import { type ForwardZoneInput, renderForwardZone } from './forward-zone.ts';

export type UnboundCase = ForwardZoneInput | ControlInterfacesInput | CellZoneInput;

export function renderUnboundCase(input: UnboundCase): string {
  if ('forwarders' in input) return renderForwardZone(input).output;
  if ('zone' in input) return renderCellZone(input).output;
  return renderControlInterfaces(input).output;
}
