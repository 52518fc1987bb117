// Compile-time proof that the generated types are real: each marked line is
// a mistake tsc must reject, and an @ts-expect-error that has no error to
// expect fails the build (the codegen test runs tsc).
import type { AddEventInput, UserEventsQuery } from './gql/graphql.js';
import { UserEvents, type EventsClient } from './client.js';

export function mistakes(client: EventsClient, data: UserEventsQuery): AddEventInput {
  // @ts-expect-error: the query does not select email.
  void data.user?.email;
  // @ts-expect-error: the query's $id is required.
  void client.urql.query(UserEvents, {});
  // @ts-expect-error: userId is a required field of AddEventInput.
  const input: AddEventInput = { name: 'no owner' };
  return input;
}
