// Compiled by ../../run.mjs under every TypeScript version and module resolution it checks: each subpath must
// resolve to real declarations (a type that fails to resolve becomes `any`, which NotAny turns into an error).
import { ConvoyModule, WebhookPublisher, type ConvoyModuleOptions, type PublishReceipt } from 'nestjs-convoy';
import { ConvoyClient, type ConvoyEndpoint } from 'nestjs-convoy/client';
import { AddressPolicy, parseDestinationUrl, type AddressPolicyOptions } from 'nestjs-convoy/embedded';
import { PGliteStorage } from 'nestjs-convoy/pglite';
import { PostgresStorage, type PostgresStorageOptions } from 'nestjs-convoy/postgres';
import { InMemoryWebhookStore, migrationSql, type DeliveryRecord } from 'nestjs-convoy/storage';
import { verifyConvoySignature, VerifyConvoyWebhook, type VerifyConvoyWebhookOptions } from 'nestjs-convoy/receiver';
import { WebhooksHealthIndicator } from 'nestjs-convoy/terminus';
import { ConvoyPortalModule, WebhookPortal } from 'nestjs-convoy/portal';
import { ConvoyDashboardModule } from 'nestjs-convoy/dashboard';
import { ConvoyTestingModule, RecordingTransport, type RecordedWebhook } from 'nestjs-convoy/testing';

type NotAny<T> = 0 extends 1 & T ? never : T;
const notAny = <T>(value: NotAny<T>): T => value as T;

export const options = notAny<ConvoyModuleOptions>({
  embedded: { allowedAddresses: ['127.0.0.0/8'] },
  delivery: { retry: { strategy: 'linear', delayMs: 1_000, attempts: 5 }, drainTimeoutMs: 5_000 },
  defaultTarget: { broadcast: true },
});
export const dynamicModule = notAny(ConvoyModule.forRoot(options));
export const testing = notAny(ConvoyTestingModule.forRoot());
export const postgres: PostgresStorageOptions = { connectionString: 'postgres://localhost/db', schema: 'app' };
export const storages = [notAny(PostgresStorage.create), notAny(PGliteStorage.create)] as const;
export const client = notAny(new ConvoyClient({ apiKey: 'CO.x', projectId: 'p' }));
export const endpointUrl: NotAny<ConvoyEndpoint['url']> = 'https://example.com/hook';
export const policyOptions = notAny<AddressPolicyOptions>({ allowedAddresses: ['10.0.0.0/8'] });
export const policy = notAny(new AddressPolicy(policyOptions));
export const destination: URL = notAny(parseDestinationUrl('https://example.com/hook'));
export const store = notAny(new InMemoryWebhookStore());
export const schemaSql: string = notAny(migrationSql('app'));
export const deadLetter = (record: DeliveryRecord): NotAny<DeliveryRecord['status']> => record.status;
export const receiverOptions = notAny<VerifyConvoyWebhookOptions>({ secret: 'secret', toleranceMs: 300_000 });
export const decorator = notAny(VerifyConvoyWebhook(receiverOptions));
export const verdict: { valid: boolean } = notAny(verifyConvoySignature('{}', 't=1,v1=00', { secret: 'secret' }));

export async function publish(publisher: WebhookPublisher): Promise<string> {
  const receipt: NotAny<PublishReceipt> = await publisher.publish('todo.created', { id: 1 }, { ownerId: 'acme' });
  return receipt.idempotencyKey;
}

export function recorded(recorder: RecordingTransport): NotAny<RecordedWebhook[]> {
  return recorder.ofType('todo.created');
}

export async function health(indicator: WebhooksHealthIndicator): Promise<string> {
  const result = notAny(await indicator.isHealthy('webhooks'));
  return result.webhooks.status;
}

// @ts-expect-error a misspelt option is refused: proof that the options type is the real one
export const misspelt: ConvoyModuleOptions = { apikey: 'CO.x' };
export const portal = notAny(ConvoyPortalModule.register({ path: '/portal', signingKey: 'k'.repeat(32) }));
export const portalLink = notAny(WebhookPortal.prototype.link);
export const dashboard = notAny(ConvoyDashboardModule.register({ path: '/admin' }));
