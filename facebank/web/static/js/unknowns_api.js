// The unknown-faces API as the review page uses it (facebank/api/routes/unknowns.py): one
// place that knows its paths, so the page's modules name what they do, not where it goes.
import { api } from "./api.js";

const BASE = "/api/v1/unknowns";

export const unknowns = {
  clusters: (query, options) => api.get(`${BASE}/clusters`, query, options),
  cluster: (id) => api.get(`${BASE}/clusters/${id}`),
  name: (id, person) => api.post(`${BASE}/clusters/${id}/name`, person),
  add: (id, personId) => api.post(`${BASE}/clusters/${id}/add`, { person_id: personId }),
  dismiss: (id) => api.post(`${BASE}/clusters/${id}/dismiss`, {}),
  deleteFace: (id) => api.delete(`${BASE}/faces/${id}`),
  // "Not this person": the face becomes a negative label of that person.
  notPerson: (personId, faceId) =>
    api.post(`/api/v1/people/${personId}/negatives`, { unknown_face_id: faceId }),
  negativesOf: (personId) => api.get(`/api/v1/people/${personId}/negatives`),
};
