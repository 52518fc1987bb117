// A small frontend client of the gateway, as a frontend team writes one:
// its operations in graphql() calls, typed by GraphQL Code Generator's
// client preset (../codegen.ts), sent by id only. urql's persistedExchange
// sends each operation's hash, which the preset embeds in the generated
// document, as extensions.persistedQuery.sha256Hash without the text
// (enforcePersistedQueries), over HTTP and, for the subscription, in the
// graphql-ws subscribe payload.
import { Client, fetchExchange, subscriptionExchange, type CombinedError } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import type { DocumentNode } from 'graphql';
import { graphql } from './gql/index.js';
import type {
  AddEventInput,
  AddEventMutation,
  EventAddedSubscription,
  UserEventsQuery,
} from './gql/graphql.js';

export const UserEvents = graphql(`
  query UserEvents($id: ID!) {
    user(id: $id) {
      id
      userName
      events {
        id
        name
      }
    }
  }
`);

export const AddEvent = graphql(`
  mutation AddEvent($input: AddEventInput!) {
    addEvent(input: $input) {
      __typename
      ... on AddEventSuccess {
        event {
          id
          name
          userId
          details
        }
      }
      ... on ServiceUnavailable {
        message
        retryAfter
      }
      ... on InvalidInput {
        message
        field
      }
    }
  }
`);

export const EventAdded = graphql(`
  subscription EventAdded($userId: ID) {
    eventAdded(userId: $userId) {
      id
      name
      userId
      details
    }
  }
`);

/** Where the gateway is, and what the platform lacks. */
export interface EventsClientOptions {
  /** The gateway's GraphQL endpoint, http(s)://…/graphql. */
  url: string;
  /** A WebSocket class, where there is no global one (Node 20: the ws package's). */
  webSocketImpl?: unknown;
  /** A fetch to use instead of the global one (a test records requests with it). */
  fetch?: typeof fetch;
}

/** The client: urql for the operations, graphql-ws under its subscriptions. */
export interface EventsClient {
  urql: Client;
  ws: WsClient;
}

/**
 * hashOf is the hash the client preset embeds in a generated document
 * (persistedDocuments); '' for a document it did not generate, which
 * persistedExchange then sends as text, and the gateway refuses.
 */
export function hashOf(document: DocumentNode): string {
  return (document as DocumentNode & { __meta__?: { hash?: string } }).__meta__?.hash ?? '';
}

/** createEventsClient connects to the gateway at options.url. */
export function createEventsClient(options: EventsClientOptions): EventsClient {
  const ws = createWsClient({
    url: options.url.replace(/^http/, 'ws'),
    webSocketImpl: options.webSocketImpl,
    lazy: true,
    retryAttempts: 0,
  });
  const urql = new Client({
    url: options.url,
    fetch: options.fetch,
    // A query by id goes as GET (a short, cacheable URL); the gateway's
    // CSRF prevention, as Apollo Server's, wants this header on a GET.
    fetchOptions: { headers: { 'apollo-require-preflight': 'true' } },
    exchanges: [
      persistedExchange({
        enforcePersistedQueries: true,
        enableForMutation: true,
        enableForSubscriptions: true,
        generateHash: (_text, document) => Promise.resolve(hashOf(document)),
      }),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          // Sent by id, the request has no query; graphql-ws wants a string.
          const payload = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              return { unsubscribe: ws.subscribe(payload, sink) };
            },
          };
        },
      }),
    ],
  });
  return { urql, ws };
}

/** OperationFailed is an operation's error, transport or GraphQL. */
export class OperationFailed extends Error {
  constructor(readonly error: CombinedError) {
    super(error.message);
  }
}

/** userEvents is the user with this id and their events. */
export async function userEvents(client: EventsClient, id: string): Promise<UserEventsQuery['user']> {
  const res = await client.urql.query(UserEvents, { id }, { requestPolicy: 'network-only' }).toPromise();
  if (res.error) throw new OperationFailed(res.error);
  return res.data?.user ?? null;
}

/** addEvent asks the gateway to add an event; its outcome is the union's member. */
export async function addEvent(client: EventsClient, input: AddEventInput): Promise<AddEventMutation['addEvent']> {
  const res = await client.urql.mutation(AddEvent, { input }).toPromise();
  if (res.error || !res.data) throw new OperationFailed(res.error!);
  return res.data.addEvent;
}

/**
 * onEventAdded calls next with each event added from now on (to userId's
 * user, or to anybody when userId is null), and onError once if the
 * subscription fails; it returns the function that ends it.
 */
export function onEventAdded(
  client: EventsClient,
  userId: string | null,
  next: (event: EventAddedSubscription['eventAdded']) => void,
  onError: (error: CombinedError) => void,
): () => void {
  const sub = client.urql.subscription(EventAdded, { userId }).subscribe((res) => {
    if (res.error) onError(res.error);
    else if (res.data) next(res.data.eventAdded);
  });
  return () => sub.unsubscribe();
}
