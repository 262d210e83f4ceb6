import i18next from 'i18next';
import { i18nNamespaces } from '@temporalio/ui/i18n/index';
import resources from '@temporalio/ui/i18n/locales/index';

// A single-page app: nothing renders on a server, every page loads in the browser.
export const ssr = false;
export const prerender = false;

export function load() {
  // The library ships English only; resources are in memory, so initialisation is synchronous.
  if (!i18next.isInitialized) {
    i18next.init({ lng: 'en', fallbackLng: 'en', ns: i18nNamespaces, defaultNS: 'common', resources, initImmediate: false });
  }
}
