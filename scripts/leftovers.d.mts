export declare const RUN_VARIABLE: string;
export declare function newRunId(): string;
export declare function processesWith(variable: string, value: string): { pid: number; cmd: string }[];
export declare function reapLeftovers(variable: string, value: string, withinMs?: number): Promise<{ pid: number; cmd: string }[]>;
