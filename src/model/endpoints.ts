/** Endpoints (or EndpointSlices mapped onto the same shape), from tables or objects. */
export interface ObjectRef {
  kind: string | null;
  namespace: string | null;
  name: string | null;
}

export interface EndpointAddress {
  ip: string;
  nodeName: string | null;
  targetRef: ObjectRef | null;
}

export interface EndpointPort {
  name: string | null;
  port: number;
  protocol: string;
}

export interface Endpoints {
  namespace: string | null;
  name: string;
  addresses: EndpointAddress[];
  notReadyAddresses: EndpointAddress[];
  ports: EndpointPort[];
  /** For an EndpointSlice: the Service it belongs to (label `kubernetes.io/service-name`). */
  serviceName?: string | null;
  /** `endpointslice` when mapped from an EndpointSlice. */
  source?: 'endpoints' | 'endpointslice';
  /** A table cuts the list (`+ 7 more...`): how many addresses it did not show. */
  omitted?: number;
  age?: string | null;
}
