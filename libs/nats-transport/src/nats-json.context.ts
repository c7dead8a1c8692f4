import { BaseRpcContext } from '@nestjs/microservices';
import type { MsgHdrs } from 'nats';

type Args = [subject: string, headers: MsgHdrs | undefined];

/** What a handler may know of the message besides its body: the subject and the headers. */
export class NatsJsonContext extends BaseRpcContext<Args> {
  get subject(): string {
    return this.args[0];
  }

  get headers(): MsgHdrs | undefined {
    return this.args[1];
  }

  header(name: string): string | undefined {
    const value = this.args[1]?.get(name);
    return value === undefined || value === '' ? undefined : value;
  }
}
