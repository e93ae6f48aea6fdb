import { createContext } from 'preact';
import { useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import type { Session, StaffSummary } from '../api/types';

export interface StaffDirectory {
  /** Staff who can be assigned (null until loaded). */
  list: StaffSummary[] | null;
  error: unknown;
  /** A staff id as people know them: the name, never the login (the id while the list loads). */
  name: (id: string) => string;
}

const fallback: StaffDirectory = { list: null, error: null, name: (id) => id };
export const StaffContext = createContext<StaffDirectory>(fallback);

export function useStaffDirectory(session: Session): StaffDirectory {
  const [list, setList] = useState<StaffSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api.staff().then(setList, setError);
  }, []);
  return useMemo(() => {
    const names = new Map((list ?? []).map((s) => [s.id, s.name]));
    names.set(session.staff.id, session.staff.name);
    return { list, error, name: (id: string) => names.get(id) ?? id };
  }, [list, error, session]);
}

export function useStaffName(): (id: string) => string {
  return useContext(StaffContext).name;
}
