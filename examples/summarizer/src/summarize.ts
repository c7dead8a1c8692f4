import { ProviderHttpError, type BrokerClient } from '@broker/client';

export interface SummarizerConfig {
  /** Code Assist API base, as Gemini CLI calls it: `https://cloudcode-pa.googleapis.com/v1internal`. */
  readonly endpoint: string;
  readonly model: string;
  /** Google Cloud project of the account, when it has one. */
  readonly project?: string;
}

interface GenerateContentResponse {
  readonly response?: {
    readonly candidates?: readonly { content?: { parts?: readonly { text?: string }[] } }[];
  };
}

const textOf = (body: GenerateContentResponse): string => {
  const parts = body.response?.candidates?.[0]?.content?.parts ?? [];
  const text = parts.map((p) => p.text ?? '').join('');
  if (text === '') throw new Error('the model returned no text');
  return text.trim();
};

/**
 * One `generateContent` call with a leased Gemini CLI token. A 429, 402 or 401 is
 * thrown as a ProviderHttpError: the client reports it and retries on the next account.
 */
export const summarize = (
  broker: BrokerClient,
  text: string,
  config: SummarizerConfig,
): Promise<string> =>
  broker.withToken(
    'gemini-cli',
    async (_token, lease) => {
      const response = await fetch(`${config.endpoint}:generateContent`, {
        method: 'POST',
        headers: { authorization: lease.authorization, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: config.model,
          ...(config.project === undefined ? {} : { project: config.project }),
          request: {
            contents: [
              { role: 'user', parts: [{ text: `Summarise in one sentence:\n\n${text}` }] },
            ],
          },
        }),
      });
      if (!response.ok) throw ProviderHttpError.fromResponse(response);
      return textOf((await response.json()) as GenerateContentResponse);
    },
    { model: config.model },
  );
