// `rackstrap gen`: every output from one model. A target is a list of files; --out writes them,
// stdout shows the first (the worksheet's Markdown for `worksheet`).
import { renderDhclient } from './dhclient.js';
import { renderDhcpd } from './dhcpd.js';
import { renderDnsmasq } from './dnsmasq.js';
import { renderKea } from './kea.js';
import type { GenModel } from './model.js';
import { renderWorksheetCsv } from './worksheet-csv.js';
import { renderWorksheetMarkdown } from './worksheet-md.js';
import { buildWorksheet } from './worksheet-model.js';
import { renderFilerSvg, svgFileName } from './worksheet-svg.js';

export { buildGenModel, OPTION_SPACE, type GenModel, type ModelOptions } from './model.js';
export { SERVER_LIMITS, option43Limit, checkServerLimits, type ServerTarget } from './limits.js';
export { TopologyTooBigError, GenerateError } from './errors.js';
export { dhclientIdentifierStatement } from './dhclient.js';
export { writeOutputs } from './write-out.js';

export { TARGETS, isTarget, type Target } from './targets.js';
import { TARGETS, type Target } from './targets.js';

export interface OutputFile {
  /** File name inside the --out folder. */
  name: string;
  content: string;
}

/** The files of one target, first the one shown on stdout. Throws (nothing partial) when a target cannot be made. */
export function generateTarget(model: GenModel, target: Target): OutputFile[] {
  switch (target) {
    case 'dhcpd':
      return [{ name: 'dhcpd.conf', content: renderDhcpd(model) }];
    case 'kea':
      return [{ name: 'kea-dhcp4.json', content: renderKea(model) }];
    case 'dnsmasq':
      return [{ name: 'dnsmasq.conf', content: renderDnsmasq(model) }];
    case 'dhclient':
      return [{ name: 'dhclient.conf', content: renderDhclient(model) }];
    case 'worksheet': {
      const w = buildWorksheet(model);
      return [
        { name: 'worksheet.md', content: renderWorksheetMarkdown(w) },
        { name: 'worksheet.csv', content: renderWorksheetCsv(w) },
        ...w.filers.map((f) => ({ name: svgFileName(f.filer), content: renderFilerSvg(w, f) })),
      ];
    }
  }
}

/** Every output of every target, in TARGETS order. */
export function generateAll(model: GenModel): OutputFile[] {
  return TARGETS.flatMap((t) => generateTarget(model, t));
}
