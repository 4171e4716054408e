/** Redis Cluster has 16384 hash slots; a cluster is usable once every one has a live master. */
export const CLUSTER_SLOTS = 16_384;

/** One line of CLUSTER NODES (or of a node's nodes.conf, which has the same format). */
export interface ClusterNodeInfo {
  id: string;
  host: string;
  port: number;
  role: 'master' | 'replica';
  /** The master's id, for a replica. */
  masterId: string | undefined;
  /** Flagged `fail` or `fail?` by the node that was asked: it is, or is suspected to be, down. */
  failing: boolean;
  /** The line describes the node that was asked. */
  myself: boolean;
  /** Inclusive slot ranges served, for a master (slots being migrated or imported are left out). */
  slots: Array<readonly [number, number]>;
}

function parseSlotRange(field: string): readonly [number, number] | undefined {
  // `[5461->-id]` and `[5461-<-id]` are migrations in progress, not slots the node serves.
  if (field.startsWith('[')) return undefined;
  const [first, last = first] = field.split('-');
  return [Number(first), Number(last)];
}

/** Parses CLUSTER NODES output or a nodes.conf file; lines of another shape (`vars …`) are skipped. */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  const nodes: ClusterNodeInfo[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const [id, address, flagList, master, , , , , ...slotFields] = fields;
    if (fields.length < 8 || id === undefined || address === undefined || flagList === undefined) continue;
    // ip:port@cport[,hostname]; a node still in handshake may have no address yet (`:0@0`).
    const hostPort = address.split('@')[0] ?? '';
    const colon = hostPort.lastIndexOf(':');
    const flags = flagList.split(',');
    nodes.push({
      id,
      host: hostPort.slice(0, colon),
      port: Number(hostPort.slice(colon + 1)),
      role: flags.includes('slave') ? 'replica' : 'master',
      masterId: master === undefined || master === '-' ? undefined : master,
      failing: flags.includes('fail') || flags.includes('fail?'),
      myself: flags.includes('myself'),
      slots: slotFields.map(parseSlotRange).filter((range) => range !== undefined),
    });
  }
  return nodes;
}

/** Parses the `name:value` lines of CLUSTER INFO or INFO. */
export function parseInfoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

export function slotCount(node: ClusterNodeInfo): number {
  return node.slots.reduce((sum, [first, last]) => sum + last - first + 1, 0);
}

export function servesSlot(node: ClusterNodeInfo, slot: number): boolean {
  return node.slots.some(([first, last]) => slot >= first && slot <= last);
}
