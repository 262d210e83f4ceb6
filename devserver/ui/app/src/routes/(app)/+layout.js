import { fetchCluster, fetchSystemInfo } from '@temporalio/ui/services/cluster-service';
import { fetchNamespaces } from '@temporalio/ui/services/namespaces-service';
import { fetchSettings } from '@temporalio/ui/services/settings-service';
import { clearAuthUser } from '@temporalio/ui/stores/auth-user';
import '../../app.css';

/** What every page reads from `$page.data`: the server's settings, cluster and system info. */
export async function load({ fetch }) {
  const settings = await fetchSettings(fetch);
  // The embedded server runs without authentication; no user is ever signed in.
  clearAuthUser();
  // The namespace list fills its store when it arrives; pages do not wait for it.
  fetchNamespaces(settings, fetch);
  const [cluster, systemInfo] = await Promise.all([fetchCluster(settings, fetch), fetchSystemInfo(settings, fetch)]);
  return { user: {}, settings, cluster, systemInfo };
}
