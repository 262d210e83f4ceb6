import type { Notifier } from '../activities/notifier';
import { createLogNotifier } from '../activities/notifier';
import { createSignedWebhookNotifier } from '../activities/signed-webhook';
import type { ChangeControlPolicy } from '../domain/change-request-policy';
import type { EscalationPolicy } from '../domain/escalation-policy';
import { ClearwayError } from '../errors';
import type { Logger } from '../log';
import { loadPolicies } from '../policies/load';

/**
 * The change-control policy new requests start under, the escalation policy new escalations start under, and the
 * notifier the change-control webhook setting asks for.
 */
export interface ChangeControlSetup {
  policy: { policy: ChangeControlPolicy; policyVersion: string; file: string };
  escalation: { policy: EscalationPolicy; version: string; file: string };
  notifier: Notifier;
}

/**
 * Loads and cross-checks the policies (the configured files, or the shipped ones). A policy naming a webhook needs
 * its secret in the environment variable it names: notifications are only ever sent signed. Failures are
 * CONFIG_INVALID with one line naming the file and the problem.
 */
export function changeControlSetup(
  env: Record<string, string | undefined>,
  log: Logger,
  files: { changeControl?: string; escalation?: string } = {},
): ChangeControlSetup {
  const loaded = loadPolicies(files);
  if (!loaded.ok) throw new ClearwayError('CONFIG_INVALID', loaded.error);
  const { policy, version, file } = loaded.changeControl;
  let notifier = createLogNotifier(log);
  if (policy.webhook) {
    const secret = env[policy.webhook.secretEnv];
    if (!secret) {
      throw new ClearwayError(
        'CONFIG_INVALID',
        `${file}: webhook.secretEnv: ${policy.webhook.secretEnv} is not set; webhooks are only sent signed`,
      );
    }
    notifier = createSignedWebhookNotifier({ url: policy.webhook.url, secret, log });
  }
  const escalation = loaded.escalation;
  log.info({ file, policyVersion: version }, 'change-control policy loaded');
  log.info({ file: escalation.file, policyVersion: escalation.version }, 'escalation policy loaded');
  return {
    policy: { policy, policyVersion: version, file },
    escalation: { policy: escalation.policy, version: escalation.version, file: escalation.file },
    notifier,
  };
}
