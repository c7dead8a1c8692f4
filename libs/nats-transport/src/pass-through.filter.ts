import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';

/**
 * Hands every handler error to the transport unchanged. Nest's default filter
 * would turn it into its own `{status: 'error'}` shape; the transport maps our
 * BrokerErrors to protocol replies and anything else to INTERNAL.
 */
@Catch()
export class PassThroughRpcFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
