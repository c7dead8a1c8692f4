import { freePort } from './free-port.js';
import { PrivateNats } from './private-nats.js';

export interface PrivateNatsClusterOptions {
  /** The config every node runs (`-c`), e.g. `localNatsConfig('nats-cluster.conf')`. */
  readonly configFile: string;
  /** Environment of every node (passwords); each node also gets `NATS_SERVER_NAME=nats-<n>`. */
  readonly env?: Record<string, string>;
  readonly size?: number;
}

/**
 * A NATS cluster of the test's own on loopback: `size` nats-servers with
 * JetStream, each with its own client, monitor and route ports and its own
 * store directory, every node routed to every other. A killed node restarts
 * on the same ports with the same store, as a crashed server would come back.
 */
export class PrivateNatsCluster {
  private constructor(readonly nodes: readonly PrivateNats[]) {}

  static async start(options: PrivateNatsClusterOptions): Promise<PrivateNatsCluster> {
    const size = options.size ?? 3;
    const routePorts: number[] = [];
    for (let i = 0; i < size; i += 1) routePorts.push(await freePort());
    const routes = routePorts.map((port) => `nats://127.0.0.1:${port}`).join(',');
    const nodes = await Promise.all(
      routePorts.map((port, i) =>
        PrivateNats.start({
          configFile: options.configFile,
          env: { ...options.env, NATS_SERVER_NAME: PrivateNatsCluster.nodeName(i) },
          args: ['--cluster', `nats://127.0.0.1:${port}`, '--routes', routes],
        }),
      ),
    );
    return new PrivateNatsCluster(nodes);
  }

  /** The server name of node `i` (0-based), as JetStream reports leaders and replicas. */
  static nodeName(i: number): string {
    return `nats-${i + 1}`;
  }

  node(i: number): PrivateNats {
    const node = this.nodes[i];
    if (node === undefined) throw new Error(`the cluster has no node ${i}`);
    return node;
  }

  /** A `NATS_URL` listing the given nodes (all by default), in that order. */
  urls(indexes: readonly number[] = this.nodes.map((_, i) => i)): string {
    return indexes.map((i) => this.node(i).url).join(',');
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.destroy()));
  }
}
