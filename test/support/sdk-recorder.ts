import type { ChatConnection, ConnectionState, DisconnectInfo, ReadyInfo, ResumedInfo, Summary } from '@chat/client';
import { waitFor } from './wait-for.js';

/** Records every event of an SDK connection, and waits (bounded) for the ones a test expects. */
export class Recorder {
  readonly messages: Summary[] = [];
  /** `messageUpdated` events (1.1 edits and deletions). */
  readonly updates: Summary[] = [];
  readonly states: ConnectionState[] = [];
  readonly readies: ReadyInfo[] = [];
  readonly resumes: ResumedInfo[] = [];
  readonly disconnects: DisconnectInfo[] = [];
  readonly recoveryFailures: string[][] = [];
  readonly errors: Error[] = [];

  constructor(
    readonly connection: ChatConnection,
    /** How long each wait may take by default. */
    private readonly timeoutMs = 10_000,
  ) {
    connection.on('message', (message) => this.messages.push(message));
    connection.on('messageUpdated', (message) => this.updates.push(message));
    connection.on('state', (state) => this.states.push(state));
    connection.on('ready', (info) => this.readies.push(info));
    connection.on('resumed', (info) => this.resumes.push(info));
    connection.on('disconnect', (info) => this.disconnects.push(info));
    connection.on('recoveryFailed', (ids) => this.recoveryFailures.push(ids));
    connection.on('error', (error) => this.errors.push(error));
  }

  seqs(conversationId: string): number[] {
    return this.messages.filter((message) => message.conversationId === conversationId).map((message) => message.seq);
  }

  private describe(): string {
    return JSON.stringify({
      states: this.states,
      disconnects: this.disconnects,
      errors: this.errors.map(String),
      seqs: this.messages.map((message) => [message.conversationId, message.seq]),
    });
  }

  waitForSeqs(conversationId: string, count: number, timeoutMs = this.timeoutMs): Promise<void> {
    return waitFor(() => this.seqs(conversationId).length >= count, `${count} messages of ${conversationId}`, timeoutMs, () => this.describe());
  }

  waitForUpdates(count: number, timeoutMs = this.timeoutMs): Promise<void> {
    return waitFor(() => this.updates.length >= count, `${count} updates`, timeoutMs, () => this.describe());
  }

  waitForReadies(count: number, timeoutMs = this.timeoutMs): Promise<void> {
    return waitFor(() => this.readies.length >= count, `ready #${count}`, timeoutMs, () => this.describe());
  }

  waitForResumes(count: number, timeoutMs = this.timeoutMs): Promise<void> {
    return waitFor(() => this.resumes.length >= count, `resumed #${count}`, timeoutMs, () => this.describe());
  }
}
