import { redirect } from '@sveltejs/kit';
import { routeForCallStack } from '@temporalio/ui/utilities/route-for';

/** The tab's former name. */
export function load({ params }) {
  redirect(302, routeForCallStack(params));
}
