/**
 * The wire format between the controller and the node agent (scripts/conmig-agent.sh, whose
 * header documents it): requests are one header line followed by exactly the announced bytes;
 * replies are `hello`, `out`, `done` and `err` frames, parsed here from a byte stream that may
 * arrive split anywhere. Pure: no I/O.
 */

export const AGENT_PROTO = 1;

export type AgentFrame =
  | { kind: 'hello'; proto: number; hash: string; pid: number }
  | { kind: 'out'; id: number; fd: 1 | 2; data: Buffer }
  | { kind: 'done'; id: number; code: number; nodeWallUs: number; stdout: Buffer; stderr: Buffer; flags: string }
  | { kind: 'err'; text: string };

/** A reply the parser could not make sense of (the channel is then unusable). */
export class AgentProtocolError extends Error {}

/** `run ID TIMEOUT_MS STREAM CMDLEN INLEN\n` CMD STDIN (timeout 0: none). */
export function encodeRun(id: number, cmd: string, o: { timeoutMs?: number; stream?: boolean; stdin?: string | Buffer }): Buffer {
  const c = Buffer.from(cmd, 'utf8');
  const i = o.stdin === undefined ? Buffer.alloc(0) : Buffer.isBuffer(o.stdin) ? o.stdin : Buffer.from(o.stdin, 'utf8');
  const t = o.timeoutMs === undefined ? 0 : Math.max(1, Math.ceil(o.timeoutMs));
  return Buffer.concat([Buffer.from(`run ${id} ${t} ${o.stream ? 1 : 0} ${c.length} ${i.length}\n`), c, i]);
}

/** `fact ID KEY MAXAGE_MS VALLEN CMDLEN\n` VALIDATOR CMD. */
export function encodeFact(id: number, key: string, maxAgeMs: number, validator: string, cmd: string): Buffer {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) throw new Error(`bad fact key ${key}`);
  const v = Buffer.from(validator, 'utf8');
  const c = Buffer.from(cmd, 'utf8');
  return Buffer.concat([Buffer.from(`fact ${id} ${key} ${Math.max(0, Math.round(maxAgeMs))} ${v.length} ${c.length}\n`), v, c]);
}

export function encodeKill(id: number): Buffer {
  return Buffer.from(`kill ${id}\n`);
}

export function encodePing(id: number): Buffer {
  return Buffer.from(`ping ${id}\n`);
}

const int = (s: string | undefined, what: string, line: string): number => {
  if (s === undefined || !/^-?\d+$/.test(s)) throw new AgentProtocolError(`bad ${what} in agent frame "${line.slice(0, 120)}"`);
  return Number(s);
};

/** Incremental parser of the agent's replies: push bytes as they come, get whole frames. */
export class FrameParser {
  private buf: Buffer = Buffer.alloc(0);
  /** A header read, waiting for its payload of `need` bytes. */
  private pending: { head: string[]; line: string; need: number } | null = null;

  push(chunk: Buffer): AgentFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: AgentFrame[] = [];
    for (;;) {
      if (!this.pending) {
        const nl = this.buf.indexOf(10);
        if (nl < 0) {
          if (this.buf.length > 4096) throw new AgentProtocolError(`agent frame header longer than 4096 bytes: "${this.buf.subarray(0, 80).toString('latin1')}"`);
          break;
        }
        const line = this.buf.subarray(0, nl).toString('utf8');
        this.buf = this.buf.subarray(nl + 1);
        const head = line.split(' ');
        this.pending = { head, line, need: payloadLength(head, line) };
      }
      if (this.buf.length < this.pending.need) break;
      const payload = this.buf.subarray(0, this.pending.need);
      this.buf = this.buf.subarray(this.pending.need);
      frames.push(toFrame(this.pending.head, this.pending.line, Buffer.from(payload)));
      this.pending = null;
    }
    return frames;
  }
}

function payloadLength(h: string[], line: string): number {
  switch (h[0]) {
    case 'hello':
      return 0;
    case 'out':
      return int(h[3], 'length', line);
    case 'done':
      return int(h[4], 'stdout length', line) + int(h[5], 'stderr length', line);
    case 'err':
      return int(h[1], 'length', line);
    default:
      throw new AgentProtocolError(`unknown agent frame "${line.slice(0, 120)}"`);
  }
}

function toFrame(h: string[], line: string, p: Buffer): AgentFrame {
  switch (h[0]) {
    case 'hello':
      if (h[1] !== 'conmig-agent') throw new AgentProtocolError(`not a conmig agent: "${line.slice(0, 120)}"`);
      return { kind: 'hello', proto: int(h[2], 'protocol', line), hash: h[3] ?? '', pid: int(h[4], 'pid', line) };
    case 'out': {
      const fd = int(h[2], 'fd', line);
      if (fd !== 1 && fd !== 2) throw new AgentProtocolError(`bad fd in agent frame "${line}"`);
      return { kind: 'out', id: int(h[1], 'id', line), fd, data: p };
    }
    case 'done': {
      const no = int(h[4], 'stdout length', line);
      return {
        kind: 'done',
        id: int(h[1], 'id', line),
        code: int(h[2], 'exit code', line),
        nodeWallUs: int(h[3], 'wall time', line),
        stdout: p.subarray(0, no),
        stderr: p.subarray(no),
        flags: h[6] ?? '-',
      };
    }
    default:
      return { kind: 'err', text: p.toString('utf8') };
  }
}
